//! Where settings come from and how they merge: the TOML file, then `SITEGATE_*` environment
//! variables, then command-line flags, then `*_file` secrets. Reads files, never writes one.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::error::one_line;
use super::spans::{key_spans, line_of};
use super::{Config, ConfigError, Origin, Secret};

const ENV_PREFIX: &str = "SITEGATE_";
/// Read by the CLI itself (config file path, log filter), not settings of the file; and
/// `SITEGATE_GIT_COMMIT`, a fact of the build (build.rs), which `cargo run --release` also puts in
/// the running binary's environment: read as a setting, it made the README's first command fail.
const CLI_ONLY_VARS: [&str; 3] = ["SITEGATE_CONFIG", "SITEGATE_LOG", "SITEGATE_GIT_COMMIT"];
/// Set by systemd's `StateDirectory=`; may list several directories separated by colons.
const SYSTEMD_STATE_VAR: &str = "STATE_DIRECTORY";

/// Everything [`Config::load`] reads: the file path, the environment and the flags.
#[derive(Clone, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    pub overrides: Overrides,
}

impl Sources {
    /// Takes the process environment. Names or values that are not UTF-8 are converted lossily.
    pub fn from_process(file: Option<PathBuf>, overrides: Overrides) -> Sources {
        let env = std::env::vars_os()
            .map(|(name, value)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.to_string_lossy().into_owned(),
                )
            })
            .collect();
        Sources { file, env, overrides }
    }
}

/// The environment may hold secrets (`SITEGATE_CENTRAL__API_TOKEN`): show names only.
impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Sources")
            .field("file", &self.file)
            .field("env (names only)", &names)
            .field("overrides", &self.overrides)
            .finish()
    }
}

/// Command-line flags of `sitegate serve`; each wins over the file and the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub state_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub kiosk_listen: Option<SocketAddr>,
    /// `--log-format`.
    pub log_format: Option<super::LogFormat>,
}

/// `sitegate config check FILE`: the file alone (no environment, no flags), validated.
pub fn check_file(path: &Path) -> Result<Config, ConfigError> {
    Config::load(&Sources {
        file: Some(path.to_owned()),
        env: Vec::new(),
        overrides: Overrides::default(),
    })
}

/// Dotted key -> the source that set it last.
type Origins = HashMap<String, Origin>;

pub(super) fn load(sources: &Sources) -> Result<Config, ConfigError> {
    let mut origins = Origins::new();
    let mut table = match &sources.file {
        Some(path) => read_file(path, &mut origins)?,
        None => toml::Table::new(),
    };
    apply_env(&mut table, &sources.env, &mut origins)?;
    let mut config: Config =
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|err| ConfigError::Invalid {
            origin: None,
            key: dotted_key(err.path()),
            message: one_line(err.inner().message()),
        })?;
    apply_overrides(&mut config, &sources.overrides, &mut origins);
    if config.state_dir.is_none()
        && let Some(dir) = systemd_state_dir(&sources.env)
    {
        config.state_dir = Some(dir);
        let var = SYSTEMD_STATE_VAR.to_owned();
        origins.insert("state_dir".to_owned(), Origin::Env { var });
    }
    config.validate().map_err(|err| attach_origin(err, &origins))?;
    read_secret_files(&mut config)?;
    Ok(config)
}

fn read_file(path: &Path, origins: &mut Origins) -> Result<toml::Table, ConfigError> {
    let text = fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    let text = Zeroizing::new(text);
    // Editors on Windows may start the file with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let table: toml::Table = toml::from_str(text).map_err(|err| ConfigError::Syntax {
        path: path.to_owned(),
        line: err.span().map_or(1, |span| line_of(text, span.start)),
        message: one_line(err.message()),
    })?;
    // Deserializing the text (rather than the table) keeps the span of the offending key/value.
    let checked: Result<Config, _> = serde_path_to_error::deserialize(toml::Deserializer::new(text));
    if let Err(err) = checked {
        let origin = Origin::File {
            path: path.to_owned(),
            line: err.inner().span().map(|span| line_of(text, span.start)),
        };
        return Err(classify(origin, err.path(), err.inner().message()));
    }
    for (key, span) in key_spans(text) {
        let line = Some(line_of(text, span.start));
        let path = path.to_owned();
        origins.insert(key, Origin::File { path, line });
    }
    Ok(table)
}

/// Overlays `SITEGATE_*` variables one at a time, in name order, so that an error names the
/// variable that caused it.
fn apply_env(
    table: &mut toml::Table,
    env: &[(String, String)],
    origins: &mut Origins,
) -> Result<(), ConfigError> {
    let mut vars: Vec<(&str, &str)> = env
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .filter(|(name, _)| is_setting_var(name))
        .collect();
    vars.sort();
    let mut set_by: HashMap<String, &str> = HashMap::new();
    for (var, raw) in vars {
        let path = env_key_path(var)?;
        let dotted = path.join(".");
        if let Some(first) = set_by.insert(dotted.clone(), var) {
            return Err(ConfigError::DuplicateEnv {
                first: first.to_owned(),
                second: var.to_owned(),
                key: dotted,
            });
        }
        *table = overlay_env_value(table, &path, var, raw)?;
        origins.insert(dotted, Origin::Env { var: var.to_owned() });
    }
    Ok(())
}

fn is_setting_var(name: &str) -> bool {
    let has_prefix = name
        .get(..ENV_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(ENV_PREFIX));
    has_prefix && !CLI_ONLY_VARS.iter().any(|cli| cli.eq_ignore_ascii_case(name))
}

/// `SITEGATE_SERVER__LISTEN` -> `["server", "listen"]`; `SITEGATE_STATE_DIR` -> `["state_dir"]`.
fn env_key_path(var: &str) -> Result<Vec<String>, ConfigError> {
    let rest = var.get(ENV_PREFIX.len()..).unwrap_or_default();
    let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
    if path.len() > 2 || path.iter().any(String::is_empty) {
        return Err(ConfigError::MalformedEnvName { var: var.to_owned() });
    }
    Ok(path)
}

/// An environment value has no type of its own: try it as a TOML value, then as a plain
/// string, then as a comma-separated list of strings, and keep the first the key accepts.
fn overlay_env_value(
    table: &toml::Table,
    path: &[String],
    var: &str,
    raw: &str,
) -> Result<toml::Table, ConfigError> {
    let parsed = parse_toml_value(raw);
    let as_list = toml::Value::Array(
        raw.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| toml::Value::String(item.to_owned()))
            .collect(),
    );
    let candidates = parsed
        .into_iter()
        .chain([toml::Value::String(raw.to_owned()), as_list]);
    let mut first_error = None;
    for candidate in candidates {
        let mut merged = table.clone();
        set_path(&mut merged, path, candidate);
        let attempt: Result<Config, _> = serde_path_to_error::deserialize(toml::Value::Table(merged.clone()));
        match attempt {
            Ok(_) => return Ok(merged),
            Err(err) if first_error.is_none() => first_error = Some(err),
            Err(_) => {}
        }
    }
    // The first candidate is the value as TOML if it parsed (its error says e.g. "integer 300,
    // expected u8"), else the plain string (e.g. "invalid socket address syntax").
    let origin = Origin::Env { var: var.to_owned() };
    match first_error {
        Some(err) => Err(classify(origin, err.path(), err.inner().message())),
        None => Err(ConfigError::Invalid {
            origin: Some(origin),
            key: path.join("."),
            message: "cannot use this value".to_owned(),
        }),
    }
}

fn parse_toml_value(raw: &str) -> Option<toml::Value> {
    let mut doc: toml::Table = toml::from_str(&format!("v = {raw}")).ok()?;
    doc.remove("v")
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    match path {
        [] => {}
        [key] => {
            table.insert(key.clone(), value);
        }
        [section, rest @ ..] => {
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !entry.is_table() {
                *entry = toml::Value::Table(toml::Table::new());
            }
            if let toml::Value::Table(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

fn apply_overrides(config: &mut Config, overrides: &Overrides, origins: &mut Origins) {
    let mut note = |key: &str, flag: &str, value: String| {
        let flag = flag.to_owned();
        origins.insert(key.to_owned(), Origin::Flag { flag, value });
    };
    if let Some(dir) = &overrides.state_dir {
        config.state_dir = Some(dir.clone());
        note("state_dir", "--state-dir", dir.display().to_string());
    }
    if let Some(addr) = overrides.listen {
        config.server.listen = addr;
        note("server.listen", "--listen", addr.to_string());
    }
    if let Some(addr) = overrides.kiosk_listen {
        config.server.kiosk_listen = Some(addr);
        note("server.kiosk_listen", "--kiosk-listen", addr.to_string());
    }
    if let Some(format) = overrides.log_format {
        config.log.format = format;
        note("log.format", "--log-format", format.as_str().to_owned());
    }
}

/// First non-empty entry of `$STATE_DIRECTORY`.
fn systemd_state_dir(env: &[(String, String)]) -> Option<PathBuf> {
    let (_, value) = env.iter().find(|(name, _)| name == SYSTEMD_STATE_VAR)?;
    value
        .split(':')
        .find(|dir| !dir.trim().is_empty())
        .map(PathBuf::from)
}

fn attach_origin(err: ConfigError, origins: &Origins) -> ConfigError {
    match err {
        ConfigError::Invalid {
            origin: None,
            key,
            message,
        } => ConfigError::Invalid {
            origin: origins.get(&key).cloned(),
            key,
            message,
        },
        other => other,
    }
}

/// Reads `central.api_token_file` into `central.api_token`; the file key is then cleared so the
/// loaded `Config` still passes `validate` (which forbids both being set).
fn read_secret_files(config: &mut Config) -> Result<(), ConfigError> {
    const KEY: &str = "central.api_token_file";
    let Some(path) = config.central.api_token_file.take() else {
        return Ok(());
    };
    let error = |source| ConfigError::SecretFile {
        path: path.clone(),
        key: KEY.to_owned(),
        source,
    };
    let text = Zeroizing::new(fs::read_to_string(&path).map_err(error)?);
    let token = text.trim_end();
    if token.is_empty() {
        let empty = io::Error::new(io::ErrorKind::InvalidData, "the file is empty");
        return Err(error(empty));
    }
    config.central.api_token = Some(Secret::new(token));
    Ok(())
}

/// A serde error at `path`: an unknown key gets its own message with the keys allowed there.
fn classify(origin: Origin, path: &serde_path_to_error::Path, message: &str) -> ConfigError {
    let mut keys = map_keys(path);
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default().to_owned();
        if keys.last() == Some(&key) {
            keys.pop();
        }
        // serde lists the allowed fields in backticks after the unknown one.
        let expected = rest.split('`').skip(2).step_by(2).map(str::to_owned).collect();
        return ConfigError::UnknownKey {
            origin,
            key,
            section: keys.join("."),
            expected,
        };
    }
    ConfigError::Invalid {
        origin: Some(origin),
        key: keys.join("."),
        message: one_line(message),
    }
}

fn map_keys(path: &serde_path_to_error::Path) -> Vec<String> {
    path.iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            _ => None,
        })
        .collect()
}

fn dotted_key(path: &serde_path_to_error::Path) -> String {
    map_keys(path).join(".")
}
