//! Checks on the command line as a whole: every argument explains itself in `--help`, and the
//! README lists every technician command.

use clap::CommandFactory;

use super::Cli;

/// Every argument of every subcommand, with the path that leads to it, that has no help text.
fn args_without_help(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if id == "help" || id == "version" {
            continue;
        }
        if arg.get_help().is_none() && arg.get_long_help().is_none() {
            let shown = arg
                .get_long()
                .map_or_else(|| format!("<{id}>"), |l| format!("--{l}"));
            missing.push(format!("{path} {shown}"));
        }
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let sub_path = format!("{path} {}", sub.get_name());
        if sub.get_about().is_none() {
            missing.push(format!("{sub_path} (the command itself)"));
        }
        args_without_help(sub, &sub_path, missing);
    }
}

#[test]
fn every_argument_has_help_text() {
    let cli = Cli::command();
    let mut missing = Vec::new();
    args_without_help(&cli, "sitegate", &mut missing);
    assert!(
        missing.is_empty(),
        "arguments without help text (add a /// line):\n{}",
        missing.join("\n")
    );
}

/// The README's list of technician commands names every subcommand of each command group that
/// reaches the gateway's socket.
#[test]
fn the_readme_lists_every_technician_command() {
    // Markdown wraps lines anywhere, even inside `code`.
    let readme = include_str!("../../README.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let cli = Cli::command();
    for group in ["user", "device", "unit", "training", "link"] {
        let Some(cmd) = cli.find_subcommand(group) else {
            panic!("no `{group}` command");
        };
        let mut want: Vec<&str> = cmd
            .get_subcommands()
            .map(|s| s.get_name())
            .filter(|n| *n != "help")
            .collect();
        want.sort_unstable();
        let needle = format!("`sitegate {group} ");
        let listed = readme
            .split(&needle)
            .skip(1)
            .filter_map(|rest| rest.split('`').next())
            .find(|span| span.contains('|'))
            .unwrap_or_else(|| panic!("README lists no {needle}a|b|…` in its technician commands"));
        let mut got: Vec<&str> = listed.split('|').map(str::trim).collect();
        got.sort_unstable();
        assert_eq!(got, want, "README's `sitegate {group} …` list");
    }
}
