//! Firmware profiles: what a printer model can do (TOML, schema 1), embedded and overridable from a folder, with inheritance and errors naming file, key and reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::codepages;

/// The schema version this build reads.
pub const SCHEMA: u32 = 1;
/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "generic-simple";

/// The profiles shipped in the binary: (id, TOML).
const EMBEDDED: &[(&str, &str)] = &[
    (
        "generic-escpos",
        include_str!("../../firmware-profiles/generic-escpos.toml"),
    ),
    (
        "generic-simple",
        include_str!("../../firmware-profiles/generic-simple.toml"),
    ),
    (
        "epson-tm-t20iii",
        include_str!("../../firmware-profiles/epson-tm-t20iii.toml"),
    ),
    (
        "epson-tm-t88v",
        include_str!("../../firmware-profiles/epson-tm-t88v.toml"),
    ),
    (
        "epson-tm-l90",
        include_str!("../../firmware-profiles/epson-tm-l90.toml"),
    ),
    (
        "zjiang-pos-5890",
        include_str!("../../firmware-profiles/zjiang-pos-5890.toml"),
    ),
];

/// A profile that cannot be used: which file, which key, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("printer profile {file}: {key}: {reason}")]
pub struct ProfileError {
    pub file: String,
    pub key: String,
    pub reason: String,
}

impl ProfileError {
    fn new(file: &str, key: impl Into<String>, reason: impl Into<String>) -> ProfileError {
        ProfileError {
            file: file.to_string(),
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// What the paper is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// Continuous roll.
    Receipt,
    /// Die-cut labels with a gap between them.
    GapLabel,
    /// Labels or tickets marked with a black mark on the back.
    BlackMarkLabel,
}

/// How the printer takes images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Raster {
    /// `GS v 0`: raster bit image (escpos-printer-db: bitImageRaster).
    #[serde(rename = "gs_v_0")]
    GsV0,
    /// `ESC *` 24-dot double density columns (escpos-printer-db: bitImageColumn), for old firmware.
    EscStar,
}

/// How the QR is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QrMode {
    /// `GS ( k`, always model 2 (escpos-printer-db: qrCode).
    Native,
    /// Inside the badge's raster image.
    Image,
}

/// Whether the printer answers status requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusSupport {
    None,
    /// Real-time `DLE EOT n` (answered, or not: there is always a timeout).
    DleEot,
}

/// A resolved, checked profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub sources: Vec<String>,
    pub media: Media,
    pub raster: Raster,
    pub qr: QrMode,
    pub status: StatusSupport,
    /// Send `GS ( D` to disable real-time commands around image data (bytes in an image can look like `DLE EOT`).
    pub realtime_disable: bool,
    pub after_init: Vec<u8>,
    /// Empty: no cutter (a printer without one would print the command as text).
    pub cut: Vec<u8>,
    /// Sent at the end of each label (gap or black-mark feed); empty for receipts.
    pub label_end: Vec<u8>,
    pub feed_lines_before_cut: u8,
    /// Vendor number (`ESC t n`) → encoding.
    pub code_pages: BTreeMap<u8, String>,
    pub one_client: bool,
    /// Largest write and largest raster block, in bytes (at most 4096).
    pub chunk_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Media {
    pub kind: MediaKind,
    pub dpi: u32,
    pub width_mm: f32,
    pub width_dots: u32,
    /// Label length; the badge is padded to it.
    pub label_length_mm: Option<f32>,
}

impl Media {
    pub fn dots_per_mm(&self) -> f32 {
        self.dpi as f32 / 25.4
    }
}

// The file's shape: every key optional, so a child profile names only what differs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    schema: Option<u32>,
    name: Option<String>,
    // Followed on the TOML table before this shape is read; declared so the key is allowed.
    #[allow(dead_code)]
    inherits: Option<String>,
    sources: Option<Vec<String>>,
    media: Option<RawMedia>,
    features: Option<RawFeatures>,
    commands: Option<RawCommands>,
    code_pages: Option<BTreeMap<String, String>>,
    transport: Option<RawTransport>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMedia {
    kind: Option<MediaKind>,
    dpi: Option<u32>,
    width_mm: Option<f32>,
    width_dots: Option<u32>,
    label_length_mm: Option<f32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeatures {
    raster: Option<Raster>,
    qr: Option<QrMode>,
    status: Option<StatusSupport>,
    realtime_disable: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommands {
    after_init: Option<String>,
    cut: Option<String>,
    label_end: Option<String>,
    feed_lines_before_cut: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransport {
    one_client: Option<bool>,
    chunk_bytes: Option<usize>,
}

/// Every usable profile by ID.
#[derive(Debug, Clone)]
pub struct Profiles {
    map: BTreeMap<String, Profile>,
}

struct Source {
    file: String,
    table: toml::Table,
}

impl Profiles {
    /// The embedded profiles only.
    pub fn embedded() -> Result<Profiles, ProfileError> {
        Profiles::load(None)
    }

    /// The embedded profiles, with `<id>.toml` files from `dir` added or replacing them.
    pub fn load(dir: Option<&Path>) -> Result<Profiles, ProfileError> {
        let mut sources = BTreeMap::new();
        for (id, text) in EMBEDDED {
            let file = format!("firmware-profiles/{id}.toml (embedded)");
            sources.insert(id.to_string(), parse_source(file, text)?);
        }
        if let Some(dir) = dir {
            for (id, path) in folder_files(dir)? {
                let file = path.display().to_string();
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ProfileError::new(&file, "(file)", format!("cannot read: {e}")))?;
                sources.insert(id, parse_source(file, &text)?);
            }
        }
        let mut map = BTreeMap::new();
        for id in sources.keys() {
            map.insert(id.clone(), resolve(id, &sources)?);
        }
        Ok(Profiles { map })
    }

    pub fn get(&self, id: &str) -> Option<&Profile> {
        self.map.get(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }
}

fn folder_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, ProfileError> {
    let file = dir.display().to_string();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ProfileError::new(&file, "profiles_dir", format!("cannot read: {e}")))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| ProfileError::new(&file, "profiles_dir", e.to_string()))?
            .path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ProfileError::new(
                &path.display().to_string(),
                "(file name)",
                "a profile's file name is its ID: lower-case letters, digits and hyphens, then .toml",
            ));
        }
        out.push((id, path));
    }
    out.sort();
    Ok(out)
}

fn parse_source(file: String, text: &str) -> Result<Source, ProfileError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
            .unwrap_or(1);
        ProfileError::new(&file, format!("line {line}"), e.message().to_string())
    })?;
    // Check the shape of this file alone, so an unknown key names this file.
    serde_path_to_error::deserialize::<_, RawProfile>(toml::Value::Table(table.clone()))
        .map_err(|e| ProfileError::new(&file, e.path().to_string(), e.inner().message().to_string()))?;
    Ok(Source { file, table })
}

/// Merge `child` over `base`: tables key by key, except `code_pages`, which a child replaces whole.
fn merge(base: &toml::Table, child: &toml::Table) -> toml::Table {
    let mut out = base.clone();
    for (k, v) in child {
        match (out.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(c)) if k != "code_pages" => {
                *b = merge(b, c);
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn resolve(id: &str, sources: &BTreeMap<String, Source>) -> Result<Profile, ProfileError> {
    let mut chain = vec![id.to_string()];
    let own = &sources[id];
    let mut table = own.table.clone();
    let mut current = own;
    while let Some(parent) = current.table.get("inherits") {
        let Some(parent) = parent.as_str() else {
            return Err(ProfileError::new(
                &current.file,
                "inherits",
                "must be a profile ID",
            ));
        };
        if chain.iter().any(|c| c == parent) {
            return Err(ProfileError::new(
                &current.file,
                "inherits",
                format!("inheritance loops: {} -> {parent}", chain.join(" -> ")),
            ));
        }
        let Some(p) = sources.get(parent) else {
            return Err(ProfileError::new(
                &current.file,
                "inherits",
                format!("no profile {parent:?}"),
            ));
        };
        chain.push(parent.to_string());
        table = merge(&p.table, &table);
        current = p;
    }
    // `name` and `sources` are the profile's own; a child inherits facts, not its parent's identity.
    table.remove("name");
    table.remove("sources");
    if let Some(v) = own.table.get("name") {
        table.insert("name".into(), v.clone());
    }
    if let Some(v) = own.table.get("sources") {
        table.insert("sources".into(), v.clone());
    }
    let raw: RawProfile = serde_path_to_error::deserialize(toml::Value::Table(table))
        .map_err(|e| ProfileError::new(&own.file, e.path().to_string(), e.inner().message().to_string()))?;
    check(id, &own.file, raw)
}

fn need<T>(file: &str, key: &str, v: Option<T>) -> Result<T, ProfileError> {
    v.ok_or_else(|| ProfileError::new(file, key, "is missing (and not inherited)"))
}

fn hex(file: &str, key: &str, s: Option<String>) -> Result<Vec<u8>, ProfileError> {
    let s = s.unwrap_or_default();
    s.split_whitespace()
        .map(|b| {
            u8::from_str_radix(b, 16)
                .ok()
                .filter(|_| b.len() == 2)
                .ok_or_else(|| {
                    ProfileError::new(
                        file,
                        key,
                        format!("{b:?} is not a hex byte (write bytes like \"1d 56 42 00\")"),
                    )
                })
        })
        .collect()
}

fn check(id: &str, file: &str, raw: RawProfile) -> Result<Profile, ProfileError> {
    let schema = need(file, "schema", raw.schema)?;
    if schema != SCHEMA {
        return Err(ProfileError::new(
            file,
            "schema",
            format!("is {schema}; this sitegate reads schema {SCHEMA}"),
        ));
    }
    let name = need(file, "name", raw.name).and_then(|n| {
        if n.trim().is_empty() {
            Err(ProfileError::new(file, "name", "must not be empty"))
        } else {
            Ok(n)
        }
    })?;
    let sources = need(file, "sources", raw.sources)?;
    if sources.iter().all(|s| s.trim().is_empty()) {
        return Err(ProfileError::new(
            file,
            "sources",
            "say where the profile's facts come from",
        ));
    }
    let m = need(file, "media", raw.media)?;
    let media = Media {
        kind: need(file, "media.kind", m.kind)?,
        dpi: need(file, "media.dpi", m.dpi)?,
        width_mm: need(file, "media.width_mm", m.width_mm)?,
        width_dots: need(file, "media.width_dots", m.width_dots)?,
        label_length_mm: m.label_length_mm,
    };
    if !(100..=600).contains(&media.dpi) {
        return Err(ProfileError::new(file, "media.dpi", "must be 100 to 600"));
    }
    if !(64..=2048).contains(&media.width_dots) || !media.width_dots.is_multiple_of(8) {
        return Err(ProfileError::new(
            file,
            "media.width_dots",
            "must be a multiple of 8 from 64 to 2048",
        ));
    }
    let expected = media.width_mm * media.dots_per_mm();
    if !(expected * 0.9..=expected * 1.1).contains(&(media.width_dots as f32)) {
        return Err(ProfileError::new(
            file,
            "media.width_dots",
            format!(
                "{} dots do not match {} mm at {} dpi (about {expected:.0})",
                media.width_dots, media.width_mm, media.dpi
            ),
        ));
    }
    if media.label_length_mm.is_some_and(|l| !(5.0..=500.0).contains(&l)) {
        return Err(ProfileError::new(
            file,
            "media.label_length_mm",
            "must be 5 to 500",
        ));
    }
    let f = need(file, "features", raw.features)?;
    let c = need(file, "commands", raw.commands)?;
    let t = need(file, "transport", raw.transport)?;
    let chunk_bytes = need(file, "transport.chunk_bytes", t.chunk_bytes)?;
    if !(64..=4096).contains(&chunk_bytes) {
        return Err(ProfileError::new(
            file,
            "transport.chunk_bytes",
            "must be 64 to 4096 (raster blocks of at most 4 KB)",
        ));
    }
    let mut code_pages = BTreeMap::new();
    for (number, enc) in raw.code_pages.unwrap_or_default() {
        let key = format!("code_pages.{number}");
        let n: u8 = number
            .parse()
            .map_err(|_| ProfileError::new(file, &key, "the key is the vendor's ESC t number, 0 to 255"))?;
        if codepages::upper_half(&enc).is_none() {
            return Err(ProfileError::new(
                file,
                &key,
                format!(
                    "unknown encoding {enc:?} (known: {})",
                    codepages::NAMES.join(", ")
                ),
            ));
        }
        code_pages.insert(n, enc);
    }
    let label_end = hex(file, "commands.label_end", c.label_end)?;
    if media.kind != MediaKind::Receipt && label_end.is_empty() {
        return Err(ProfileError::new(
            file,
            "commands.label_end",
            "labels need a command that feeds to the next label",
        ));
    }
    Ok(Profile {
        id: id.to_string(),
        name,
        sources,
        media,
        raster: need(file, "features.raster", f.raster)?,
        qr: need(file, "features.qr", f.qr)?,
        status: need(file, "features.status", f.status)?,
        realtime_disable: f.realtime_disable.unwrap_or(false),
        after_init: hex(file, "commands.after_init", c.after_init)?,
        cut: hex(file, "commands.cut", c.cut)?,
        label_end,
        feed_lines_before_cut: c.feed_lines_before_cut.unwrap_or(0),
        code_pages,
        one_client: t.one_client.unwrap_or(true),
        chunk_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_profile_loads_with_its_contract_id() {
        let p = Profiles::embedded().unwrap();
        let ids: Vec<&str> = p.ids().collect();
        for id in [
            "generic-escpos",
            "generic-simple",
            "epson-tm-t20iii",
            "epson-tm-t88v",
            "epson-tm-l90",
            "zjiang-pos-5890",
        ] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
        let z = p.get("zjiang-pos-5890").unwrap();
        assert!(z.cut.is_empty());
        assert_eq!(z.after_init, vec![0x1c, 0x2e]);
        assert_eq!(z.qr, QrMode::Image);
        assert_eq!(p.get("epson-tm-t88v").unwrap().media.dpi, 180);
        assert_eq!(p.get("generic-simple").unwrap().cut, Vec::<u8>::new());
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn a_folder_adds_and_overrides_profiles_through_inheritance() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "my-printer.toml",
            "schema = 1\nname = \"Mine\"\ninherits = \"epson-tm-t20iii\"\nsources = [\"our bench\"]\n[media]\nwidth_dots = 512\nwidth_mm = 64\n",
        );
        let p = Profiles::load(Some(dir.path())).unwrap();
        let mine = p.get("my-printer").unwrap();
        assert_eq!(mine.media.width_dots, 512);
        assert_eq!(mine.qr, QrMode::Native);
        assert_eq!(mine.name, "Mine");
    }

    #[test]
    fn broken_profiles_name_file_key_and_reason() {
        let cases = [
            (
                "schema = 1\nname = \"x\"\ninherits = \"generic-escpos\"\nsources = [\"s\"]\n[media]\ndpi = 5000\n",
                "media.dpi",
            ),
            (
                "schema = 1\nname = \"x\"\ninherits = \"generic-escpos\"\nsources = [\"s\"]\n[media]\ncolour = true\n",
                "media.colour",
            ),
            (
                "schema = 1\nname = \"x\"\ninherits = \"nope\"\nsources = [\"s\"]\n",
                "inherits",
            ),
            (
                "schema = 1\nname = \"x\"\ninherits = \"generic-escpos\"\nsources = [\"s\"]\n[commands]\ncut = \"1d 5\"\n",
                "commands.cut",
            ),
            (
                "schema = 1\nname = \"x\"\ninherits = \"generic-escpos\"\nsources = [\"s\"]\n[code_pages]\n0 = \"klingon\"\n",
                "code_pages.0",
            ),
            (
                "schema = 1\nname = \"x\"\ninherits = \"generic-escpos\"\nsources = [\"s\"]\n[transport]\nchunk_bytes = 65536\n",
                "transport.chunk_bytes",
            ),
            (
                "schema = 2\nname = \"x\"\ninherits = \"generic-escpos\"\nsources = [\"s\"]\n",
                "schema",
            ),
            ("schema = 1\nname = \"x\"\nsources = [\"s\"]\n", "media"),
            ("schema = 1\nname = \n", "line 2"),
        ];
        for (text, key) in cases {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), "bad.toml", text);
            let err = Profiles::load(Some(dir.path())).unwrap_err();
            assert!(err.file.ends_with("bad.toml"), "{err}");
            assert_eq!(err.key, key, "{err}");
            assert!(!err.reason.is_empty());
        }
    }

    #[test]
    fn inheritance_loops_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "a.toml",
            "schema = 1\nname = \"a\"\ninherits = \"b\"\nsources = [\"s\"]\n",
        );
        write(
            dir.path(),
            "b.toml",
            "schema = 1\nname = \"b\"\ninherits = \"a\"\nsources = [\"s\"]\n",
        );
        let err = Profiles::load(Some(dir.path())).unwrap_err();
        assert_eq!(err.key, "inherits");
        assert!(err.reason.contains("loops"), "{err}");
    }
}
