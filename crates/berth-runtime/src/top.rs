//! `docker top`: the host's `ps` output narrowed to a container's processes, as moby's
//! `ContainerTop` (`daemon/top_unix.go`) does it.

use std::process::Command;

/// moby's default `ps_args`.
pub const DEFAULT_PS_ARGS: &str = "-ef";

#[derive(Debug, thiserror::Error)]
pub enum TopError {
    /// An `-o key=PID` renaming of another column to `PID` (which would fool the
    /// filter); Docker rejects it as an invalid parameter.
    #[error("specifying \"{0}\" is not allowed")]
    NotAllowed(String),
    /// `ps` failed; the text is its first line of stderr.
    #[error("ps: {0}")]
    Ps(String),
    #[error("Couldn't find PID field in ps output")]
    NoPidField,
    #[error("Unexpected pid '{0}': strconv.Atoi: parsing \"{0}\": invalid syntax")]
    UnexpectedPid(String),
}

/// `ps` column titles and the rows of the processes in `pids`.
pub type TopOutput = (Vec<String>, Vec<Vec<String>>);

/// Runs `ps <ps_args>` (default `-ef`) and keeps the rows whose PID is in `pids` (plus
/// the `-` thread rows that follow them, for `-L`-style output).
pub fn top(pids: &[i32], ps_args: &str) -> Result<TopOutput, TopError> {
    let ps_args = if ps_args.is_empty() {
        DEFAULT_PS_ARGS
    } else {
        ps_args
    };
    validate_ps_args(ps_args)?;
    // Split on single spaces as moby does (so doubled spaces give empty arguments).
    let args: Vec<&str> = ps_args.split(' ').collect();
    let quick = format!(
        "-q{}",
        pids.iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let output = match run_ps(args.iter().copied().chain([quick.as_str()])) {
        Ok(out) => out,
        // Some ps_args cannot be combined with -q: ask for everything instead.
        Err(_) => run_ps(args.iter().copied())?,
    };
    parse_ps_output(&output, pids)
}

fn run_ps<'a>(args: impl Iterator<Item = &'a str>) -> Result<String, TopError> {
    let output = Command::new("ps")
        .args(args)
        .output()
        .map_err(|e| TopError::Ps(e.to_string()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        return Err(TopError::Ps(if first.is_empty() {
            format!("exit status {}", output.status.code().unwrap_or(-1))
        } else {
            first.to_string()
        }));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// moby's `validatePSArgs`: rejects `<space>key=PID…` unless key is `pid`, i.e. the
/// regex `\s+([^\s]*)=\s*(PID[^\s]*)`.
fn validate_ps_args(ps_args: &str) -> Result<(), TopError> {
    let tokens: Vec<(usize, &str)> = ps_args
        .split_whitespace()
        .map(|t| (t.as_ptr() as usize - ps_args.as_ptr() as usize, t))
        .collect();
    for (i, &(offset, token)) in tokens.iter().enumerate() {
        // The key must follow whitespace.
        if offset == 0 {
            continue;
        }
        // Greedy key: the last '=' whose value (maybe after spaces) starts with PID.
        for (eq, _) in token.match_indices('=').rev() {
            let after = &token[eq + 1..];
            let value = if after.is_empty() {
                tokens.get(i + 1).map(|(_, next)| *next).unwrap_or_default()
            } else {
                after
            };
            if value.starts_with("PID") {
                let key = &token[..eq];
                if key != "pid" {
                    return Err(TopError::NotAllowed(format!("{key}={value}")));
                }
                break;
            }
        }
    }
    Ok(())
}

/// Go's `strings.FieldsFunc` on ASCII whitespace.
fn fields_ascii(line: &str) -> Vec<&str> {
    line.split(['\t', '\n', '\x0c', '\r', ' '])
        .filter(|f| !f.is_empty())
        .collect()
}

/// moby's `parsePSOutput`.
fn parse_ps_output(output: &str, pids: &[i32]) -> Result<TopOutput, TopError> {
    let mut lines = output.split('\n');
    let titles: Vec<String> = fields_ascii(lines.next().unwrap_or_default())
        .into_iter()
        .map(String::from)
        .collect();
    let pid_index = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or(TopError::NoPidField)?;
    let mut processes = Vec::new();
    let mut previous_contained = false;
    for line in lines.filter(|l| !l.is_empty()) {
        let fields = fields_ascii(line);
        let Some(pid_field) = fields.get(pid_index) else {
            continue;
        };
        let contained = if *pid_field == "-" {
            previous_contained
        } else {
            let pid: i32 = pid_field
                .parse()
                .map_err(|_| TopError::UnexpectedPid(pid_field.to_string()))?;
            previous_contained = pids.contains(&pid);
            previous_contained
        };
        if contained {
            processes.push(row(&fields, titles.len()));
        }
    }
    Ok((titles, processes))
}

/// One value per title; the last column (the command) keeps its spaces.
fn row(fields: &[&str], columns: usize) -> Vec<String> {
    let split = columns.saturating_sub(1).min(fields.len());
    let mut row: Vec<String> = fields[..split].iter().map(|f| f.to_string()).collect();
    row.push(fields[split..].join(" "));
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    const PS_EF: &str = "UID          PID    PPID  C STIME TTY          TIME CMD\n\
root           1       0  0 09:00 ?        00:00:01 /sbin/init\n\
root         100       1  0 09:01 ?        00:00:00 sleep 1000 --flag x\n\
root         200       1  0 09:01 ?        00:00:00 other\n";

    #[test]
    fn keeps_only_container_rows_and_joins_the_command() {
        let (titles, rows) = parse_ps_output(PS_EF, &[100]).unwrap();
        assert_eq!(titles.len(), 8);
        assert_eq!(titles[1], "PID");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][1], "100");
        assert_eq!(rows[0][7], "sleep 1000 --flag x");
    }

    #[test]
    fn thread_rows_follow_their_process() {
        let out = "PID LWP CMD\n100 100 a\n- 101 a\n200 200 b\n- 201 b\n";
        let (_, rows) = parse_ps_output(out, &[100]).unwrap();
        assert_eq!(rows, vec![vec!["100", "100", "a"], vec!["-", "101", "a"]]);
    }

    #[test]
    fn missing_pid_column_and_bad_pids_are_errors() {
        let err = parse_ps_output("USER COMMAND\nroot x\n", &[1]).unwrap_err();
        assert_eq!(err.to_string(), "Couldn't find PID field in ps output");
        let err = parse_ps_output("PID CMD\nabc x\n", &[1]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unexpected pid 'abc': strconv.Atoi: parsing \"abc\": invalid syntax"
        );
    }

    #[test]
    fn renaming_a_column_to_pid_is_rejected() {
        assert!(validate_ps_args("-o pid=PID,comm").is_ok());
        assert!(validate_ps_args("aux").is_ok());
        let err = validate_ps_args("-o user=PID").unwrap_err();
        assert_eq!(err.to_string(), "specifying \"user=PID\" is not allowed");
        assert!(validate_ps_args("-o user= PIDX").is_err());
        // Only after whitespace, as the regex requires.
        assert!(validate_ps_args("user=PID").is_ok());
    }
}
