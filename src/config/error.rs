//! Configuration errors: one line each, naming the source (file and line, environment variable
//! or flag) and the dotted key, so an operator can fix the setting without reading code.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where a setting came from; used to point error messages at the right place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The configuration file; `line` is 1-based, `None` when the line is not known.
    File { path: PathBuf, line: Option<usize> },
    /// An environment variable, e.g. `SITEGATE_SERVER__LISTEN` or `STATE_DIRECTORY`.
    Env { var: String },
    /// A command-line flag and the value given to it, e.g. `--kiosk-listen 0.0.0.0:8080`.
    Flag { flag: String, value: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::Env { var } => write!(f, "environment variable {var}"),
            Origin::Flag { flag, value } => write!(f, "{flag} {value}"),
        }
    }
}

/// Everything that can be wrong with the configuration. `Display` is always one line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read file: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("{}:{line}: invalid TOML: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A key that sitegate does not know (often a typo).
    #[error("{origin}: unknown key `{key}` {} (expected one of: {})", section_phrase(section), expected.join(", "))]
    UnknownKey {
        origin: Origin,
        key: String,
        /// Dotted path of the enclosing section; empty for the top level.
        section: String,
        expected: Vec<String>,
    },
    /// A value of the wrong type, out of range, or breaking a rule between keys.
    #[error("{}{message}", invalid_prefix(origin.as_ref(), key))]
    Invalid {
        /// `None` when the value was not traced to a source (a default, or `Config::validate`
        /// called on a hand-built `Config`).
        origin: Option<Origin>,
        /// Dotted key, e.g. `server.listen`.
        key: String,
        message: String,
    },
    /// An environment variable that starts with `SITEGATE_` but cannot name a key.
    #[error(
        "environment variable {var}: not a sitegate setting (expected SITEGATE_<KEY> or SITEGATE_<SECTION>__<KEY>)"
    )]
    MalformedEnvName { var: String },
    /// Two environment variables that differ only in case set the same key.
    #[error("environment variables {first} and {second} both set `{key}`; keep one")]
    DuplicateEnv {
        first: String,
        second: String,
        key: String,
    },
    /// The file named by a `*_file` secret key could not be read, or is empty.
    #[error("{}: cannot read {key}: {source}", path.display())]
    SecretFile {
        path: PathBuf,
        /// Dotted key that named the file, e.g. `central.api_token_file`.
        key: String,
        #[source]
        source: io::Error,
    },
}

fn section_phrase(section: &str) -> String {
    if section.is_empty() {
        "at the top level".to_owned()
    } else {
        format!("in [{section}]")
    }
}

/// An environment variable or a flag already names the key, so only a file (or no source at all)
/// spells the key out.
fn invalid_prefix(origin: Option<&Origin>, key: &str) -> String {
    match origin {
        Some(origin @ Origin::File { .. }) => format!("{origin}: key `{key}`: "),
        Some(origin) => format!("{origin}: "),
        None => format!("key `{key}`: "),
    }
}

impl ConfigError {
    pub(crate) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            origin: None,
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// Turns a message that may span several lines into one line.
pub(crate) fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
