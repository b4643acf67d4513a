//! `User` and `GroupAdd` resolved against the container's own /etc/passwd and /etc/group,
//! as runc's user package does: names must exist, numbers need not.

use std::path::Path;

use super::rootfs;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

struct GroupEntry {
    name: String,
    gid: u32,
    members: Vec<String>,
}

fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_owned(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f.get(5).copied().unwrap_or("/").to_owned(),
            })
        })
        .collect()
}

fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_owned(),
                gid: f[2].parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn read_text(root: &Path, path: &str) -> String {
    rootfs::read_file(root, path, 4 << 20)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Resolves `user` (`""`, `name`, `uid`, `name:group`, `uid:gid`) and `group_add` inside
/// the container root.
pub fn resolve(root: &Path, user: &str, group_add: &[String]) -> Result<ExecUser, String> {
    let passwd = parse_passwd(&read_text(root, "/etc/passwd"));
    let groups = parse_group(&read_text(root, "/etc/group"));
    resolve_with(&passwd, &groups, user, group_add)
}

fn resolve_with(
    passwd: &[PasswdEntry],
    groups: &[GroupEntry],
    user: &str,
    group_add: &[String],
) -> Result<ExecUser, String> {
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let mut out = ExecUser {
        home: "/".into(),
        ..Default::default()
    };
    let entry = passwd.iter().find(|p| p.name == user_part).or_else(|| {
        user_part
            .parse::<u32>()
            .ok()
            .and_then(|uid| passwd.iter().find(|p| p.uid == uid))
    });
    let user_name = match (entry, user_part.parse::<u32>()) {
        (Some(p), _) => {
            out.uid = p.uid;
            out.gid = p.gid;
            out.home = p.home.clone();
            Some(p.name.clone())
        }
        (None, Ok(uid)) => {
            out.uid = uid;
            None
        }
        (None, Err(_)) => {
            return Err(format!(
                "unable to find user {user_part}: no matching entries in passwd file"
            ))
        }
    };
    if let Some(g) = group_part.filter(|g| !g.is_empty()) {
        out.gid = lookup_group(groups, g)?;
    } else if let Some(name) = &user_name {
        // Supplementary groups only when no explicit group was given, as runc does.
        out.additional_gids = groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == name) && g.gid != out.gid)
            .map(|g| g.gid)
            .collect();
    }
    for g in group_add {
        let gid = lookup_group(groups, g)?;
        if !out.additional_gids.contains(&gid) {
            out.additional_gids.push(gid);
        }
    }
    Ok(out)
}

fn lookup_group(groups: &[GroupEntry], g: &str) -> Result<u32, String> {
    if let Some(e) = groups.iter().find(|e| e.name == g) {
        return Ok(e.gid);
    }
    g.parse::<u32>()
        .map_err(|_| format!("unable to find group {g}: no matching entries in group file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\nstaff:x:50:www,bob\naudio:x:29:www\n";

    fn r(user: &str, add: &[&str]) -> Result<ExecUser, String> {
        let add: Vec<String> = add.iter().map(|s| s.to_string()).collect();
        resolve_with(&parse_passwd(PASSWD), &parse_group(GROUP), user, &add)
    }

    #[test]
    fn names_numbers_and_groups_resolve_like_runc() {
        assert_eq!(r("", &[]).unwrap().uid, 0);
        let www = r("www", &[]).unwrap();
        assert_eq!((www.uid, www.gid), (33, 33));
        assert_eq!(www.additional_gids, vec![50, 29]);
        assert_eq!(www.home, "/var/www");
        let explicit = r("www:staff", &[]).unwrap();
        assert_eq!((explicit.uid, explicit.gid), (33, 50));
        assert!(explicit.additional_gids.is_empty());
        let numeric = r("1234:5678", &[]).unwrap();
        assert_eq!((numeric.uid, numeric.gid), (1234, 5678));
        assert_eq!(
            r("0", &["audio", "77"]).unwrap().additional_gids,
            vec![29, 77]
        );
    }

    #[test]
    fn unknown_names_fail_with_runcs_message() {
        assert_eq!(
            r("nobody", &[]).unwrap_err(),
            "unable to find user nobody: no matching entries in passwd file"
        );
        assert!(r("www:nogroup", &[]).is_err());
        assert!(r("0", &["nogroup"]).is_err());
    }
}
