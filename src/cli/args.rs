//! Command-line arguments (clap) and their translation into technician requests.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use time::OffsetDateTime;

use super::Outcome;
use crate::domain::org::UnitKind;
use crate::domain::staff::Role;
use crate::domain::user::{AccessLevel, NewUserInput};
use crate::service::admin::{AdminRequest, NewLinkRef, TargetRef, UnitRef};
use crate::service::devices::DeviceChange;
use crate::service::training::NewModule;

/// sitegate: the on-site gateway of a VR safety-training platform.
#[derive(Debug, Parser)]
#[command(name = "sitegate", version, about)]
pub struct Cli {
    /// Configuration file (TOML). Without one, the built-in defaults apply.
    #[arg(long, global = true, env = "SITEGATE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// State directory (database, keys, certificate, socket). Default: $STATE_DIRECTORY, else ./sitegate-data.
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway: HTTPS API, kiosk listener, background work.
    Serve(ServeArgs),
    /// Create the first admin on this box and print their one-time bootstrap code.
    Init(InitArgs),
    /// User records.
    #[command(subcommand)]
    User(UserCmd),
    /// Groups, sites and regions.
    #[command(subcommand)]
    Unit(UnitCmd),
    /// The training catalogue and assignments.
    #[command(subcommand)]
    Training(TrainingCmd),
    /// Paired headsets and kiosk tablets, and pairing requests.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Training access links: create, list, show usage, deactivate, reactivate, pin to the kiosk.
    #[command(subcommand)]
    Link(LinkCmd),
    /// Configuration: print an example, or check a file.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Exit 0 when the gateway running on this box answers ready.
    Healthcheck(HealthcheckArgs),
    /// Check everything a site needs, one line per check; the exit code is the number of failed checks.
    Doctor(DoctorArgs),
    /// The gateway's URL(s) and certificate fingerprint, as text and a QR, for setting headsets up by hand.
    Info,
    /// The reference headset client: find gateways, pair, log in, report progress, log out (speaks only the public API).
    #[command(subcommand)]
    Headset(super::headset::HeadsetCmd),
    /// Badge printers: print a sample badge.
    #[command(subcommand)]
    Print(PrintCmd),
    /// The central system: join its site with a one-time site token, or leave it.
    #[command(subcommand)]
    Central(super::sync::CentralCmd),
    /// Sync with the central system: status, sync now, dead letters, the central side's OpenAPI.
    #[command(subcommand)]
    Sync(super::sync::SyncCmd),
}

#[derive(Debug, Subcommand)]
pub enum PrintCmd {
    /// Print a sample badge (a name with accents and Cyrillic) straight to a printer. Needs no
    /// running gateway and no `init`.
    Test {
        /// tcp://HOST[:PORT] (9100 by default), file:///dev/usb/lp0 or spool://DIR.
        #[arg(long, value_name = "URL")]
        printer: String,
        /// Firmware profile ID (default generic-simple: raster only, no cut).
        #[arg(long, value_name = "ID")]
        profile: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// HTTPS address (default 0.0.0.0:8443).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Plain-HTTP kiosk address; must be loopback (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR:PORT")]
    pub kiosk_listen: Option<SocketAddr>,
    /// Seed demo data into an empty database and print the demo staff sign-in.
    #[arg(long)]
    pub demo: bool,
    /// Log lines as `text` (default: for the journal or a terminal) or `json` (one object per
    /// line, for shipping logs). Config: log.format.
    #[arg(long, value_name = "FORMAT", value_parser = crate::config::LogFormat::parse)]
    pub log_format: Option<crate::config::LogFormat>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The first admin's given name.
    #[arg(long)]
    pub given_name: String,
    /// The first admin's family name.
    #[arg(long)]
    pub family_name: String,
    /// The first admin's email address (optional).
    #[arg(long)]
    pub email: Option<String>,
}

#[derive(Debug, Args)]
pub struct PersonArgs {
    /// Given name, in any script.
    #[arg(long)]
    pub given_name: String,
    /// Family name, in any script.
    #[arg(long)]
    pub family_name: String,
    /// Email address (unique among users).
    #[arg(long)]
    pub email: Option<String>,
    /// Phone number, international form, e.g. +351912345678 (unique among users).
    #[arg(long)]
    pub phone: Option<String>,
    /// The company the person works for.
    #[arg(long)]
    pub employer: Option<String>,
    /// Preferred language code (en, es, pt, pl, ...).
    #[arg(long)]
    pub language: Option<String>,
    /// trainee (default), instructor, manager or admin.
    #[arg(long, value_parser = parse_role)]
    pub role: Option<Role>,
    /// full (default) or classroom_only.
    #[arg(long, value_parser = parse_access)]
    pub access_level: Option<AccessLevel>,
    /// Group to join, by name or UUID (repeatable).
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Site to join, by name or UUID (repeatable).
    #[arg(long = "site", value_name = "SITE")]
    pub sites: Vec<String>,
    /// Region to join, by name or UUID (repeatable).
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Create a user.
    Add(PersonArgs),
    /// List users, ordered by ID.
    List {
        /// Start after this user ID (the last one of the previous page).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
        /// Most users to list.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Show a user's record, training and activity.
    Show {
        /// The user's ID (as on the badge, e.g. ABCDE-FGHJK).
        id: String,
    },
    /// Deactivate a user (their PIN and sessions stop working).
    Deactivate {
        /// The user's ID.
        id: String,
    },
    /// Issue a new VR PIN (printed once; the old one stops working at once).
    Pin {
        /// The user's ID.
        id: String,
    },
    /// Issue a one-time password (printed once; single use; short-lived).
    Otp {
        /// The user's ID.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    /// List devices and pairing requests with their comparison codes.
    List,
    /// Approve a pairing request (compare the code on the device first).
    Approve {
        /// The device's ID (a UUID, see `sitegate device list`).
        id: String,
    },
    /// Reject a pairing request.
    Reject {
        /// The device's ID (a UUID, see `sitegate device list`).
        id: String,
    },
    /// Revoke a device: its token stops working and its sessions end at once.
    Revoke {
        /// The device's ID (a UUID, see `sitegate device list`).
        id: String,
    },
    /// Rename a device.
    Rename {
        /// The device's ID (a UUID, see `sitegate device list`).
        id: String,
        /// Its new name, as staff screens show it.
        name: String,
    },
    /// Place a headset in a room (free text); without a room, take it out of any.
    Room {
        /// The device's ID (a UUID, see `sitegate device list`).
        id: String,
        /// The room, e.g. "Training room 2"; omit to take the headset out of any room.
        room: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UnitCmd {
    /// Create a group, site or region.
    Add {
        /// group, site or region.
        #[arg(long, value_parser = parse_kind)]
        kind: UnitKind,
        /// Its name (unique among units of its kind).
        name: String,
    },
    /// List groups, sites and regions.
    List {
        /// Only this kind: group, site or region.
        #[arg(long, value_parser = parse_kind)]
        kind: Option<UnitKind>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TrainingCmd {
    /// Add a module to the catalogue.
    Add {
        /// The module's title (unique in the catalogue).
        #[arg(long)]
        title: String,
        /// How long the module takes, in minutes.
        #[arg(long)]
        duration_minutes: u32,
        /// How long a completion stays valid; omit for no expiry.
        #[arg(long)]
        valid_for_days: Option<u32>,
    },
    /// Assign a module (by title or UUID) to a group, site, region or user.
    Assign {
        /// The module, by title or UUID.
        #[arg(long)]
        module: String,
        /// Assign to everyone in this group (name or UUID).
        #[arg(long, conflicts_with_all = ["site", "region", "user"])]
        group: Option<String>,
        /// Assign to everyone at this site (name or UUID).
        #[arg(long, conflicts_with_all = ["group", "region", "user"])]
        site: Option<String>,
        /// Assign to everyone in this region (name or UUID).
        #[arg(long, conflicts_with_all = ["group", "site", "user"])]
        region: Option<String>,
        /// Assign to one user, by ID.
        #[arg(long, value_name = "ID", conflicts_with_all = ["group", "site", "region"])]
        user: Option<String>,
        /// Due date, YYYY-MM-DD (end of that day, UTC) or an RFC 3339 date-time.
        #[arg(long, value_parser = parse_due)]
        due: Option<OffsetDateTime>,
    },
    /// List modules and assignments.
    List,
}

#[derive(Debug, Subcommand)]
pub enum LinkCmd {
    /// Create an access link (prints its URL).
    Add {
        /// The link's name, as staff and the kiosk tile show it.
        #[arg(long)]
        name: String,
        /// A line for the people it is meant for, shown on its enrollment page.
        #[arg(long, default_value = "")]
        description: String,
        /// After this date (YYYY-MM-DD, end of that day UTC) or RFC 3339 date-time it enrolls nobody.
        #[arg(long, value_parser = parse_due)]
        expires: Option<OffsetDateTime>,
        /// Most distinct users it may enroll.
        #[arg(long)]
        cap: Option<u32>,
        /// Group to allocate enrollees to, by name or UUID (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// Site to allocate enrollees to, by name or UUID (repeatable).
        #[arg(long = "site", value_name = "SITE")]
        sites: Vec<String>,
        /// Region to allocate enrollees to, by name or UUID (repeatable).
        #[arg(long = "region", value_name = "REGION")]
        regions: Vec<String>,
        /// Show it as a tile on the kiosk's start screen.
        #[arg(long)]
        pinned: bool,
    },
    /// List access links.
    List,
    /// Show a link (by UUID or name) with its URL and who came through it.
    Show {
        /// The link, by name or UUID.
        link: String,
    },
    /// Deactivate a link: it enrolls nobody until reactivated.
    Deactivate {
        /// The link, by name or UUID.
        link: String,
    },
    /// Reactivate a deactivated link.
    Reactivate {
        /// The link, by name or UUID.
        link: String,
    },
    /// Pin a link to the kiosk's start screen (or take it off with --off).
    Pin {
        /// The link, by name or UUID.
        link: String,
        /// Take the link off the kiosk's start screen instead.
        #[arg(long)]
        off: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print a fully commented example configuration (the defaults).
    Example,
    /// Check a configuration file; exits 2 with the problem.
    Check {
        /// The TOML file to check, e.g. /etc/sitegate/sitegate.toml.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the report as JSON (for scripts), with the same exit code.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// Gateway URL to ask (default: the HTTPS port the gateway running on this state directory
    /// listens on, asked over its socket).
    #[arg(long)]
    pub url: Option<String>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).map_err(|e| e.to_string())
}

fn parse_access(s: &str) -> Result<AccessLevel, String> {
    AccessLevel::parse(s).map_err(|e| e.to_string())
}

fn parse_kind(s: &str) -> Result<UnitKind, String> {
    UnitKind::parse(s).map_err(|e| e.to_string())
}

fn parse_due(s: &str) -> Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map(|d| {
            d.with_hms(23, 59, 59)
                .map(|dt| dt.assume_utc())
                .unwrap_or_else(|_| d.midnight().assume_utc())
        })
        .map_err(|_| format!("{s:?} is not a date like 2026-12-31"))
}

/// Turn a data command into the request the gateway (or the store) runs.
pub(super) fn to_request(cmd: Command) -> Result<AdminRequest, Outcome> {
    Ok(match cmd {
        Command::Init(a) => AdminRequest::Init {
            input: NewUserInput {
                given_name: a.given_name,
                family_name: a.family_name,
                email: a.email,
                ..Default::default()
            },
        },
        Command::User(UserCmd::Add(p)) => {
            let mut units = Vec::new();
            for (kind, keys) in [
                (UnitKind::Group, p.groups),
                (UnitKind::Site, p.sites),
                (UnitKind::Region, p.regions),
            ] {
                units.extend(keys.into_iter().map(|key| UnitRef { kind, key }));
            }
            AdminRequest::UserAdd {
                input: NewUserInput {
                    given_name: p.given_name,
                    family_name: p.family_name,
                    email: p.email,
                    phone: p.phone,
                    employer: p.employer,
                    language: p.language,
                    role: p.role,
                    access_level: p.access_level,
                },
                units,
            }
        }
        Command::User(UserCmd::List { after, limit }) => AdminRequest::UserList { after, limit },
        Command::User(UserCmd::Show { id }) => AdminRequest::UserShow { id },
        Command::User(UserCmd::Deactivate { id }) => AdminRequest::UserDeactivate { id },
        Command::User(UserCmd::Pin { id }) => AdminRequest::UserPin { id },
        Command::User(UserCmd::Otp { id }) => AdminRequest::UserOtp { id },
        Command::Device(cmd) => {
            let (id, change) = match cmd {
                DeviceCmd::List => return Ok(AdminRequest::DeviceList),
                DeviceCmd::Approve { id } => (id, DeviceChange::Approve),
                DeviceCmd::Reject { id } => (id, DeviceChange::Reject),
                DeviceCmd::Revoke { id } => (id, DeviceChange::Revoke),
                DeviceCmd::Rename { id, name } => (id, DeviceChange::Rename(name)),
                DeviceCmd::Room { id, room } => (id, DeviceChange::Room(room)),
            };
            AdminRequest::DeviceChange { id, change }
        }
        Command::Unit(UnitCmd::Add { kind, name }) => AdminRequest::UnitAdd { kind, name },
        Command::Unit(UnitCmd::List { kind }) => AdminRequest::UnitList { kind },
        Command::Training(TrainingCmd::Add {
            title,
            duration_minutes,
            valid_for_days,
        }) => AdminRequest::TrainingAdd {
            module: NewModule {
                title,
                duration_minutes,
                valid_for_days,
            },
        },
        Command::Training(TrainingCmd::Assign {
            module,
            group,
            site,
            region,
            user,
            due,
        }) => {
            let target = match (group, site, region, user) {
                (Some(key), ..) => TargetRef::Unit(UnitRef {
                    kind: UnitKind::Group,
                    key,
                }),
                (_, Some(key), ..) => TargetRef::Unit(UnitRef {
                    kind: UnitKind::Site,
                    key,
                }),
                (_, _, Some(key), _) => TargetRef::Unit(UnitRef {
                    kind: UnitKind::Region,
                    key,
                }),
                (_, _, _, Some(id)) => TargetRef::User { id },
                _ => {
                    return Err(Outcome::fail(
                        2,
                        "training assign needs one of --group, --site, --region or --user",
                    ));
                }
            };
            AdminRequest::TrainingAssign {
                module,
                target,
                due_at: due,
            }
        }
        Command::Training(TrainingCmd::List) => AdminRequest::TrainingList,
        Command::Link(cmd) => link_request(cmd),
        Command::Serve(_)
        | Command::Config(_)
        | Command::Healthcheck(_)
        | Command::Doctor(_)
        | Command::Info
        | Command::Headset(_)
        | Command::Print(_)
        | Command::Central(_)
        | Command::Sync(_) => {
            return Err(Outcome::fail(2, "not a data command"));
        }
    })
}

fn link_request(cmd: LinkCmd) -> AdminRequest {
    match cmd {
        LinkCmd::Add {
            name,
            description,
            expires,
            cap,
            groups,
            sites,
            regions,
            pinned,
        } => {
            let mut units = Vec::new();
            for (kind, keys) in [
                (UnitKind::Group, groups),
                (UnitKind::Site, sites),
                (UnitKind::Region, regions),
            ] {
                units.extend(keys.into_iter().map(|key| UnitRef { kind, key }));
            }
            AdminRequest::LinkAdd {
                link: NewLinkRef {
                    name,
                    description,
                    expires_at: expires,
                    cap,
                    units,
                    pinned,
                },
            }
        }
        LinkCmd::List => AdminRequest::LinkList,
        LinkCmd::Show { link } => AdminRequest::LinkShow { link },
        LinkCmd::Deactivate { link } => AdminRequest::LinkDeactivate { link },
        LinkCmd::Reactivate { link } => AdminRequest::LinkReactivate { link },
        LinkCmd::Pin { link, off } => AdminRequest::LinkPin { link, pinned: !off },
    }
}
