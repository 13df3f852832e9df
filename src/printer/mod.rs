//! Printing on the badge printer: badge and on-site list rendering, ESC/POS encoding per firmware profile, transports, printer status and the stored print queue.

pub mod bitmap;
pub mod codepages;
pub mod encode;
pub mod font;
pub mod list_render;
pub mod profile;
pub mod queue;
pub mod render;
pub mod status;
pub mod transport;
pub mod words;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::Config;
use crate::domain::on_site::OnSiteList;
use crate::domain::print_job::{PrintFault, RetryPolicy};
use bitmap::GrayImage;
use font::Fonts;
use profile::{Profile, ProfileError, Profiles};
use render::{BadgeContent, RenderError, Renderer};
use status::PrinterStatus;
use transport::{PrinterUrl, Timeouts};

/// Why printing could not be set up at start. Each is one line for the technician.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Profile(#[from] ProfileError),
    #[error("printing.printers[{index}].profile: no firmware profile {id:?} (known: {known})")]
    UnknownProfile { index: usize, id: String, known: String },
    #[error("printing.printers[{index}].url: {reason}")]
    Url { index: usize, reason: String },
    #[error("{key} {path}: {reason}")]
    File {
        key: &'static str,
        path: PathBuf,
        reason: String,
    },
}

/// What staff are told when a badge or list has characters the fonts lack.
pub fn missing_glyphs_message(chars: &[char]) -> String {
    let list: Vec<String> = chars.iter().map(char::to_string).collect();
    format!(
        "the badge printer's fonts have no glyph for {}: they print as empty boxes. Set printing.font_file to a font that has them (e.g. Noto Sans CJK for Chinese, Japanese, Korean), restart, and print again",
        list.join(" ")
    )
}

/// A configured printer with its resolved profile.
#[derive(Debug, Clone)]
pub struct Printer {
    pub name: String,
    pub url: PrinterUrl,
    pub profile: Profile,
}

/// What staff see about a printer: its last answer and last fault.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PrinterHealth {
    pub status: PrinterStatus,
    pub last_fault: Option<PrintFault>,
    pub last_detail: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checked_at: Option<OffsetDateTime>,
}

/// Everything printing needs, built once at start. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Printing {
    pub renderer: Renderer,
    pub profiles: Arc<Profiles>,
    /// The first is where badges go.
    pub printers: Arc<Vec<Printer>>,
    pub failover: Option<String>,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    health: Arc<Mutex<BTreeMap<String, PrinterHealth>>>,
    /// Wakes the queue worker when a job is queued.
    pub wake: Arc<tokio::sync::Notify>,
}

/// What a claimed job prints.
#[derive(Debug, Clone)]
pub enum JobContent {
    Badge(BadgeContent),
    OnSiteList(OnSiteList),
}

/// A job ready to send: the bytes for the printer and the PNG of the same bitmap.
#[derive(Debug, Clone)]
pub struct BuiltJob {
    pub bytes: Vec<u8>,
    pub png: Vec<u8>,
}

fn read_file(key: &'static str, path: &Path) -> Result<Vec<u8>, SetupError> {
    std::fs::read(path).map_err(|e| SetupError::File {
        key,
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

impl Printing {
    /// Load profiles, fonts and logo, and resolve the configured printers. Refuses a broken
    /// profile, an unknown profile ID, an unreadable logo or font.
    pub fn from_config(config: &Config) -> Result<Printing, SetupError> {
        let p = &config.printing;
        let profiles = Profiles::load(p.profiles_dir.as_deref())?;
        let extra = p
            .font_file
            .as_deref()
            .map(|path| read_file("printing.font_file", path))
            .transpose()?;
        let fonts = Fonts::new(extra).map_err(|e| SetupError::File {
            key: "printing.font_file",
            path: p.font_file.clone().unwrap_or_default(),
            reason: e.to_string(),
        })?;
        let logo = match p.logo_file.as_deref() {
            Some(path) => Some(
                GrayImage::from_png(&read_file("printing.logo_file", path)?).map_err(|e| {
                    SetupError::File {
                        key: "printing.logo_file",
                        path: path.to_path_buf(),
                        reason: e.to_string(),
                    }
                })?,
            ),
            None => None,
        };
        let mut printers = Vec::new();
        for (index, pc) in config.printers().into_iter().enumerate() {
            let profile = profiles
                .get(&pc.profile)
                .cloned()
                .ok_or_else(|| SetupError::UnknownProfile {
                    index,
                    id: pc.profile.clone(),
                    known: profiles.ids().collect::<Vec<_>>().join(", "),
                })?;
            let url = PrinterUrl::parse(&pc.url).map_err(|reason| SetupError::Url { index, reason })?;
            printers.push(Printer {
                name: pc.name,
                url,
                profile,
            });
        }
        let secs = |s: u64| time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
        Ok(Printing {
            renderer: Renderer::new(fonts, logo),
            profiles: Arc::new(profiles),
            printers: Arc::new(printers),
            failover: p.failover.clone(),
            timeouts: Timeouts {
                connect: Duration::from_secs(p.connect_timeout_secs),
                write: Duration::from_secs(p.write_timeout_secs),
                status: Duration::from_millis(p.status_timeout_ms),
            },
            retry: RetryPolicy {
                max_attempts: p.max_attempts,
                base: secs(p.retry_base_secs),
                max: secs(p.retry_max_secs),
            },
            health: Arc::default(),
            wake: Arc::default(),
        })
    }

    /// Where badges go.
    pub fn primary(&self) -> Option<&Printer> {
        self.printers.first()
    }

    pub fn printer(&self, name: &str) -> Option<&Printer> {
        self.printers.iter().find(|p| p.name == name)
    }

    /// The printer a failing job on `current` moves to, if any.
    pub fn failover_for(&self, current: &str) -> Option<&str> {
        match (&self.failover, self.primary()) {
            (Some(f), Some(primary)) if primary.name == current => Some(f.as_str()),
            _ => None,
        }
    }

    /// Render and encode one badge for `profile`: the bytes that print and the PNG of the same bitmap.
    pub fn build(
        &self,
        profile: &Profile,
        content: &BadgeContent,
        footer: &[String],
    ) -> Result<BuiltJob, RenderError> {
        let rendered = self.renderer.render(content, &profile.media)?;
        let bytes = encode::encode_badge(profile, &rendered, &content.payload, footer);
        let png = rendered
            .bitmap
            .to_png()
            .map_err(|e| RenderError::Png(e.to_string()))?;
        Ok(BuiltJob { bytes, png })
    }

    /// Render and encode a claimed job's content for `profile`.
    pub fn build_content(&self, profile: &Profile, content: &JobContent) -> Result<BuiltJob, RenderError> {
        match content {
            JobContent::Badge(badge) => self.build(profile, badge, &[]),
            JobContent::OnSiteList(list) => {
                let bitmap = list_render::render_list(self.renderer.fonts(), list, &profile.media);
                let bytes = encode::encode_image(profile, &bitmap);
                let png = bitmap.to_png().map_err(|e| RenderError::Png(e.to_string()))?;
                Ok(BuiltJob { bytes, png })
            }
        }
    }

    /// The PNG preview for `profile` (what would print there).
    pub fn preview(&self, profile: &Profile, content: &BadgeContent) -> Result<Vec<u8>, RenderError> {
        let rendered = self.renderer.render(content, &profile.media)?;
        rendered
            .bitmap
            .to_png()
            .map_err(|e| RenderError::Png(e.to_string()))
    }

    pub fn record_health(&self, printer: &str, health: PrinterHealth) {
        self.health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(printer.to_string(), health);
    }

    pub fn health(&self, printer: &str) -> Option<PrinterHealth> {
        self.health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(printer)
            .cloned()
    }
}
