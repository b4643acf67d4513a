//! Command-line mistakes reported as the docker CLI reports them: flag errors
//! (`unknown flag: --foo`, `invalid argument "1x" for "-m, --memory" flag: …`) with the
//! command's usage line and exit status 125; wrong argument counts
//! (`berth: 'berth run' requires at least 1 argument`) with exit status 1.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::CommandFactory;

use super::container::status::bin_name;
use super::Cli;

/// How many positional arguments a command takes (docker/cli's `cli.*Args`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArgRule {
    NoArgs,
    Exact(usize),
    Min(usize),
    Max(usize),
    Range(usize, usize),
}

/// The `Use` line (after the command path) and argument rule of docker's commands.
fn command_spec(name: &str, parent: Option<&str>) -> Option<(&'static str, ArgRule)> {
    use ArgRule::*;
    let containers = "[OPTIONS] CONTAINER [CONTAINER...]";
    Some(match (parent, name) {
        (Some("network"), "create") => ("[OPTIONS] NETWORK", Exact(1)),
        (Some("network"), "ls" | "prune") => ("[OPTIONS]", NoArgs),
        (Some("network"), "inspect") => ("[OPTIONS] NETWORK [NETWORK...]", Min(1)),
        (Some("network"), "rm") => ("NETWORK [NETWORK...]", Min(1)),
        (Some("network"), "connect" | "disconnect") => ("[OPTIONS] NETWORK CONTAINER", Exact(2)),
        (Some("volume"), "create") => ("[OPTIONS] [VOLUME]", Max(1)),
        (Some("volume"), "ls" | "prune") => ("[OPTIONS]", NoArgs),
        (Some("volume"), "inspect" | "rm") => ("[OPTIONS] VOLUME [VOLUME...]", Min(1)),
        (_, "port") => ("CONTAINER [PRIVATE_PORT[/PROTO]]", Range(1, 2)),
        (_, "run" | "create") => ("[OPTIONS] IMAGE [COMMAND] [ARG...]", Min(1)),
        (_, "start" | "stop" | "restart" | "kill" | "rm" | "update") => (containers, Min(1)),
        (_, "pause" | "unpause" | "wait") => ("CONTAINER [CONTAINER...]", Min(1)),
        (_, "attach" | "logs") => ("[OPTIONS] CONTAINER", Exact(1)),
        (_, "exec") => ("[OPTIONS] CONTAINER COMMAND [ARG...]", Min(2)),
        (_, "rename") => ("CONTAINER NEW_NAME", Exact(2)),
        // docker hard-codes its own name in the second line of this one.
        (_, "cp") => (
            "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
            Exact(2),
        ),
        (_, "top") => ("CONTAINER [ps OPTIONS]", Min(1)),
        (_, "stats") => ("[OPTIONS] [CONTAINER...]", Min(0)),
        (Some("container"), "inspect") => (containers, Min(1)),
        (Some("image"), "inspect") => ("[OPTIONS] IMAGE [IMAGE...]", Min(1)),
        (None, "inspect") => ("[OPTIONS] NAME|ID [NAME|ID...]", Min(1)),
        (Some("container"), "ls") | (None, "ps") => ("[OPTIONS]", NoArgs),
        (Some("container" | "image"), "prune") => ("[OPTIONS]", NoArgs),
        (None, "images") | (Some("image"), "ls") => ("[OPTIONS] [REPOSITORY[:TAG]]", Max(1)),
        _ => return Option::None,
    })
}

/// The subcommand names on the command line (canonical, aliases resolved), skipping the
/// global options and their values.
fn command_path(args: &[String]) -> Vec<String> {
    const GLOBAL_WITH_VALUE: &[&str] = &[
        "-H",
        "--host",
        "--tlscacert",
        "--tlscert",
        "--tlskey",
        "-l",
        "--log-level",
    ];
    let mut cmd = Cli::command();
    let mut path = Vec::new();
    let mut iter = args.iter().skip(1);
    let mut top = true;
    while let Some(arg) = iter.next() {
        if top && GLOBAL_WITH_VALUE.contains(&arg.as_str()) {
            iter.next();
            continue;
        }
        if arg.starts_with('-') {
            if top {
                continue;
            }
            break;
        }
        match cmd.find_subcommand(arg).cloned() {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                let has_subcommands = sub.get_subcommands().next().is_some();
                cmd = sub;
                top = false;
                if !has_subcommands {
                    break;
                }
            }
            None => break,
        }
    }
    path
}

fn context_str(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        _ => None,
    }
}

/// `--memory <MEMORY>` → the flag's long name and short letter, from the command.
fn flag_names(path: &[String], invalid_arg: &str) -> (String, Option<char>) {
    // clap shows `--memory <MEMORY>`, or `--all[=<ALL>]` for an optional value.
    let flag = invalid_arg.split([' ', '[']).next().unwrap_or(invalid_arg);
    let mut cmd = Cli::command();
    for p in path {
        match cmd.find_subcommand(p).cloned() {
            Some(sub) => cmd = sub,
            None => break,
        }
    }
    let found = cmd.get_arguments().find(|a| {
        flag.strip_prefix("--").is_some_and(|l| {
            a.get_long() == Some(l) || a.get_all_aliases().is_some_and(|al| al.contains(&l))
        }) || flag
            .strip_prefix('-')
            .and_then(|s| s.chars().next())
            .is_some_and(|c| a.get_short() == Some(c))
    });
    match found {
        Some(a) => (
            a.get_long()
                .map(str::to_owned)
                .unwrap_or_else(|| flag.trim_start_matches('-').to_owned()),
            a.get_short(),
        ),
        None => (flag.trim_start_matches('-').to_owned(), None),
    }
}

/// The docker-style message and exit status for a parse error, or `None` to let clap
/// report it.
fn docker_message(e: &clap::Error, args: &[String]) -> Option<(String, i32)> {
    let bin = bin_name();
    let path = command_path(args);
    let name = path.last()?.clone();
    let parent = path.len().checked_sub(2).map(|i| path[i].as_str());
    let (usage, rule) = command_spec(&name, parent)?;
    let full = format!("{bin} {}", path.join(" "));
    let flag_error = |msg: String| {
        Some((
            format!("{msg}\n\nUsage:  {full} {usage}\n\nRun '{full} --help' for more information"),
            125,
        ))
    };
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let arg_error = || {
        let (what, verb) = match rule {
            ArgRule::NoArgs => ("accepts no arguments".to_owned(), "Run"),
            ArgRule::Exact(n) => (format!("requires {n} {}", plural(n)), "Run"),
            ArgRule::Min(n) => (format!("requires at least {n} {}", plural(n)), "See"),
            // docker/cli 28's `RequiresMaxArgs` really says "SRun" (a typo it ships).
            ArgRule::Max(n) => (format!("requires at most {n} {}", plural(n)), "SRun"),
            ArgRule::Range(min, max) => (
                format!("requires at least {min} and at most {max} {}", plural(max)),
                "Run",
            ),
        };
        Some((
            format!("{bin}: '{full}' {what}\n\nUsage:  {full} {usage}\n\n{verb} '{full} --help' for more information"),
            1,
        ))
    };
    let invalid_arg = context_str(e, ContextKind::InvalidArg).unwrap_or_default();
    match e.kind() {
        ErrorKind::UnknownArgument if invalid_arg.starts_with("--") => {
            let flag = invalid_arg.split('=').next().unwrap_or(&invalid_arg);
            flag_error(format!("unknown flag: {flag}"))
        }
        ErrorKind::UnknownArgument if invalid_arg.starts_with('-') && invalid_arg.len() > 1 => {
            let c = invalid_arg.chars().nth(1).unwrap_or('-');
            flag_error(format!("unknown shorthand flag: '{c}' in -{c}"))
        }
        ErrorKind::UnknownArgument
        | ErrorKind::MissingRequiredArgument
        | ErrorKind::TooManyValues
        | ErrorKind::WrongNumberOfValues => arg_error(),
        ErrorKind::InvalidValue
            if context_str(e, ContextKind::InvalidValue)
                .unwrap_or_default()
                .is_empty() =>
        {
            let (long, short) = flag_names(&path, &invalid_arg);
            let typed_short = short.is_some_and(|c| args.iter().any(|a| *a == format!("-{c}")));
            match short {
                Some(c) if typed_short => {
                    flag_error(format!("flag needs an argument: '{c}' in -{c}"))
                }
                _ => flag_error(format!("flag needs an argument: --{long}")),
            }
        }
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => {
            let value = context_str(e, ContextKind::InvalidValue).unwrap_or_default();
            let (long, short) = flag_names(&path, &invalid_arg);
            let names = match short {
                Some(c) => format!("-{c}, --{long}"),
                None => format!("--{long}"),
            };
            let reason = std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "invalid value".to_owned());
            flag_error(format!(
                "invalid argument {value:?} for {names:?} flag: {reason}"
            ))
        }
        _ => None,
    }
}

/// Reports a parse error as docker does and exits; help and version go to clap.
pub fn exit(e: clap::Error) -> ! {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit()
    }
    let args: Vec<String> = std::env::args().collect();
    if e.kind() == ErrorKind::InvalidSubcommand {
        let bin = bin_name();
        let path = command_path(&args);
        let typed = context_str(&e, ContextKind::InvalidSubcommand).unwrap_or_default();
        let full = std::iter::once(bin.clone())
            .chain(path.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        if path.is_empty() {
            eprintln!(
                "{bin}: unknown command: {bin} {typed}\n\nRun '{bin} --help' for more information"
            );
        } else {
            eprintln!("{bin}: unknown command: {full} {typed}\n\nUsage:  {full}\n\nRun '{full} --help' for more information");
        }
        std::process::exit(1);
    }
    match docker_message(&e, &args) {
        Some((msg, code)) => {
            eprintln!("{msg}");
            std::process::exit(code)
        }
        None => e.exit(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn message(args: &[&str]) -> (String, i32) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let e = Cli::try_parse_from(&args).err().expect("a parse error");
        let (msg, code) = docker_message(&e, &args).expect("a docker-style message");
        // The binary name in tests is the test runner's; compare from the first space.
        (msg.replace(&bin_name(), "berth"), code)
    }

    #[test]
    fn unknown_flags_exit_125_with_usage() {
        let (msg, code) = message(&["berth", "run", "--foo", "busybox"]);
        assert_eq!(code, 125);
        assert_eq!(
            msg,
            "unknown flag: --foo\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information"
        );
        let (msg, _) = message(&["berth", "ps", "-ax"]);
        assert!(
            msg.starts_with("unknown shorthand flag: 'x' in -x\n"),
            "{msg}"
        );
        let (msg, _) = message(&["berth", "-H", "unix:///x", "container", "list", "--bad"]);
        assert!(
            msg.contains("Usage:  berth container ls [OPTIONS]"),
            "{msg}"
        );
    }

    #[test]
    fn bad_values_name_the_flag() {
        let (msg, code) = message(&["berth", "run", "-m", "1x", "busybox"]);
        assert_eq!(code, 125);
        assert!(
            msg.starts_with(
                "invalid argument \"1x\" for \"-m, --memory\" flag: invalid suffix: 'x'\n"
            ),
            "{msg}"
        );
        let (msg, _) = message(&["berth", "stop", "-t", "x", "a"]);
        assert!(msg.starts_with("invalid argument \"x\" for \"-t, --timeout\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"), "{msg}");
        let (msg, _) = message(&["berth", "ps", "--all=maybe"]);
        assert!(msg.starts_with("invalid argument \"maybe\" for \"-a, --all\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\n"), "{msg}");
        let (msg, _) = message(&["berth", "run", "-a", "foo", "busybox"]);
        assert!(msg.starts_with("invalid argument \"foo\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR"), "{msg}");
    }

    #[test]
    fn argument_counts_exit_1() {
        let (msg, code) = message(&["berth", "run"]);
        assert_eq!(code, 1);
        assert_eq!(
            msg,
            "berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information"
        );
        let (msg, _) = message(&["berth", "rename", "a"]);
        assert!(
            msg.starts_with("berth: 'berth rename' requires 2 arguments\n"),
            "{msg}"
        );
        let (msg, _) = message(&["berth", "ps", "a"]);
        assert!(
            msg.starts_with("berth: 'berth ps' accepts no arguments\n"),
            "{msg}"
        );
    }

    #[test]
    fn network_and_port_usage() {
        let (msg, code) = message(&["berth", "network", "create"]);
        assert_eq!(code, 1);
        assert_eq!(
            msg,
            "berth: 'berth network create' requires 1 argument\n\nUsage:  berth network create [OPTIONS] NETWORK\n\nRun 'berth network create --help' for more information"
        );
        let (msg, _) = message(&["berth", "network", "connect", "n"]);
        assert!(
            msg.starts_with("berth: 'berth network connect' requires 2 arguments\n"),
            "{msg}"
        );
        let (msg, _) = message(&["berth", "network", "list", "x"]);
        assert!(
            msg.starts_with("berth: 'berth network ls' accepts no arguments\n"),
            "{msg}"
        );
        let (msg, _) = message(&["berth", "network", "remove"]);
        assert!(
            msg.starts_with("berth: 'berth network rm' requires at least 1 argument\n\nUsage:  berth network rm NETWORK [NETWORK...]\n\nSee "),
            "{msg}"
        );
        let (msg, code) = message(&["berth", "port"]);
        assert_eq!(code, 1);
        assert_eq!(
            msg,
            "berth: 'berth port' requires at least 1 and at most 2 arguments\n\nUsage:  berth port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nRun 'berth port --help' for more information"
        );
        let (msg, code) = message(&["berth", "network", "create", "--label", "", "n"]);
        assert_eq!(code, 125);
        assert!(
            msg.starts_with("invalid argument \"\" for \"--label\" flag: invalid label '': empty name\n\nUsage:  berth network create [OPTIONS] NETWORK\n"),
            "{msg}"
        );
    }

    #[test]
    fn missing_values() {
        let (msg, code) = message(&["berth", "run", "-e"]);
        assert_eq!(code, 125);
        assert!(
            msg.starts_with("flag needs an argument: 'e' in -e\n"),
            "{msg}"
        );
        let (msg, _) = message(&["berth", "run", "--env"]);
        assert!(msg.starts_with("flag needs an argument: --env\n"), "{msg}");
    }
}
