//! Volume names: the local driver's rule (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`, which also keeps
//! a name from leaving the volumes directory) and generated names for anonymous volumes.

/// The characters moby's message quotes (`names.RestrictedNameChars`).
const RESTRICTED_NAME_CHARS: &str = "[a-zA-Z0-9][a-zA-Z0-9_.-]";

/// Why a name was refused, in the local driver's words.
pub fn validate(name: &str) -> Result<(), String> {
    // Bytes, as Go's len(): one multibyte character is "invalid", not "too short".
    if name.len() == 1 {
        return Err(
            "volume name is too short, names should be at least two alphanumeric characters".into(),
        );
    }
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} includes invalid characters for a local volume name, only \"{RESTRICTED_NAME_CHARS}\" are allowed. If you intended to pass a host directory, use absolute path"
        ))
    }
}

/// A random 64-hex name, as `stringid.GenerateRandomID`.
pub fn generate() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_local_drivers_rule() {
        for ok in ["ab", "my-vol_1.x", "0a", "A.-_"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            validate("a").unwrap_err(),
            "volume name is too short, names should be at least two alphanumeric characters"
        );
        assert_eq!(
            validate("a/b").unwrap_err(),
            "\"a/b\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        );
        for bad in ["", "-ab", ".x", "..", "a b", "/abs", "vol\u{e9}"] {
            assert!(validate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_names_are_valid_64_hex() {
        let a = generate();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(validate(&a).is_ok());
        assert_ne!(a, generate());
    }
}
