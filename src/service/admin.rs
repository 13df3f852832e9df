//! The technician's commands (`sitegate user …`, `training …`, `unit …`, `device …`, `link …`, `central …`, `sync …`, `init`) as one request type,
//! run the same way whether the CLI reaches a running gateway's socket or opens the store itself.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::Bootstrap;
use super::devices::DeviceChange;
use super::links::{LinkDetail, LinkUsage};
use super::otp::IssuedOtp;
use super::sync::join::{JoinInput, Joined, Left};
use super::sync::status::SyncStatus;
use super::training::NewModule;
use super::users::UserDetail;
use super::{Actor, ServiceResult, Services};
use crate::domain::activity::ActivityEntry;
use crate::domain::device::Device;
use crate::domain::ids::UserId;
use crate::domain::link::{Allocation, LinkInput, LinkPatch};
use crate::domain::org::{Unit, UnitKind};
use crate::domain::training::{AssignedTraining, Assignment, AssignmentTarget, Module};
use crate::domain::user::{NewUserInput, User};

/// A unit named by kind and UUID or name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRef {
    pub kind: UnitKind,
    pub key: String,
}

/// Who a module is assigned to, as typed on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum TargetRef {
    Unit(UnitRef),
    User { id: String },
}

/// One technician command.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum AdminRequest {
    Init {
        input: NewUserInput,
    },
    UserAdd {
        input: NewUserInput,
        units: Vec<UnitRef>,
    },
    UserList {
        after: Option<String>,
        limit: usize,
    },
    UserShow {
        id: String,
    },
    UserDeactivate {
        id: String,
    },
    UnitAdd {
        kind: UnitKind,
        name: String,
    },
    UnitList {
        kind: Option<UnitKind>,
    },
    TrainingAdd {
        module: NewModule,
    },
    TrainingAssign {
        module: String,
        target: TargetRef,
        #[serde(with = "time::serde::rfc3339::option")]
        due_at: Option<OffsetDateTime>,
    },
    TrainingList,
    /// Issue a new PIN for a user; the old one stops working.
    UserPin {
        id: String,
    },
    /// Issue a one-time password for a user.
    UserOtp {
        id: String,
    },
    DeviceList,
    DeviceChange {
        id: String,
        change: DeviceChange,
    },
    LinkAdd {
        link: NewLinkRef,
    },
    LinkList,
    LinkShow {
        link: String,
    },
    LinkDeactivate {
        link: String,
    },
    LinkReactivate {
        link: String,
    },
    LinkPin {
        link: String,
        pinned: bool,
    },
    /// Join the central system's site with a one-time site token (never logged).
    CentralJoin {
        input: JoinInput,
    },
    CentralLeave,
    SyncStatus,
    /// Wake the running sync task.
    SyncNow,
    DeadLetterRetry {
        seq: u64,
    },
    DeadLetterDiscard {
        seq: u64,
        reason: String,
    },
    /// Where the running gateway listens (`sitegate healthcheck` asks it, whatever `--listen` was).
    Listening,
    /// What `sitegate doctor` needs from the gateway.
    Doctor,
}

impl AdminRequest {
    /// The command as the technician typed it (`user add`, `device approve`), for log lines.
    pub fn name(&self) -> &'static str {
        match self {
            AdminRequest::Init { .. } => "init",
            AdminRequest::UserAdd { .. } => "user add",
            AdminRequest::UserList { .. } => "user list",
            AdminRequest::UserShow { .. } => "user show",
            AdminRequest::UserDeactivate { .. } => "user deactivate",
            AdminRequest::UserPin { .. } => "user pin",
            AdminRequest::UserOtp { .. } => "user otp",
            AdminRequest::UnitAdd { .. } => "unit add",
            AdminRequest::UnitList { .. } => "unit list",
            AdminRequest::TrainingAdd { .. } => "training add",
            AdminRequest::TrainingAssign { .. } => "training assign",
            AdminRequest::TrainingList => "training list",
            AdminRequest::DeviceList => "device list",
            AdminRequest::DeviceChange { change, .. } => match change {
                DeviceChange::Approve => "device approve",
                DeviceChange::Reject => "device reject",
                DeviceChange::Revoke => "device revoke",
                DeviceChange::Rename(_) => "device rename",
                DeviceChange::Room(_) => "device room",
            },
            AdminRequest::LinkAdd { .. } => "link add",
            AdminRequest::LinkList => "link list",
            AdminRequest::LinkShow { .. } => "link show",
            AdminRequest::LinkDeactivate { .. } => "link deactivate",
            AdminRequest::LinkReactivate { .. } => "link reactivate",
            AdminRequest::LinkPin { pinned: true, .. } => "link pin",
            AdminRequest::LinkPin { pinned: false, .. } => "link pin --off",
            AdminRequest::Listening => "healthcheck",
            AdminRequest::Doctor => "doctor",
            AdminRequest::CentralJoin { .. } => "central join",
            AdminRequest::CentralLeave => "central leave",
            AdminRequest::SyncStatus => "sync status",
            AdminRequest::SyncNow => "sync now",
            AdminRequest::DeadLetterRetry { .. } => "sync dead-letters retry",
            AdminRequest::DeadLetterDiscard { .. } => "sync dead-letters discard",
        }
    }
}

/// A new access link as typed on the command line: units by name or UUID.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewLinkRef {
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    pub cap: Option<u32>,
    pub units: Vec<UnitRef>,
    pub pinned: bool,
}

/// A user's profile as the CLI prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserProfile {
    pub user: User,
    pub units: Vec<Unit>,
    pub training: Vec<AssignedTraining>,
    pub activity: Vec<ActivityEntry>,
}

impl From<UserDetail> for UserProfile {
    fn from(d: UserDetail) -> Self {
        UserProfile {
            user: d.user,
            units: d.units,
            training: d.training,
            activity: d.activity,
        }
    }
}

/// What a command answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AdminResponse {
    Bootstrap(Bootstrap),
    User {
        user: User,
    },
    Users {
        users: Vec<User>,
    },
    Profile(Box<UserProfile>),
    Unit {
        unit: Unit,
    },
    Units {
        units: Vec<Unit>,
    },
    Module {
        module: Module,
    },
    Catalogue {
        modules: Vec<Module>,
        assignments: Vec<Assignment>,
        units: Vec<Unit>,
    },
    Assignment {
        assignment: Assignment,
        module: Module,
    },
    Pin {
        user_id: String,
        pin: String,
    },
    Otp(IssuedOtp),
    Devices {
        devices: Vec<Device>,
    },
    Device {
        device: Device,
    },
    Link {
        link: Box<LinkDetail>,
        /// `https://host[:port]` where phones open the gateway (`server.public_hostnames`, else
        /// the LAN address discovery chose); `None` when there is none.
        base_url: Option<String>,
    },
    Links {
        links: Vec<LinkDetail>,
        base_url: Option<String>,
    },
    LinkReport {
        link: Box<LinkDetail>,
        usage: Box<LinkUsage>,
        base_url: Option<String>,
    },
    Joined(Joined),
    Left(Left),
    SyncStatus(Box<SyncStatus>),
    SyncWoken {
        state: String,
        summary: String,
    },
    DeadLetterRetried {
        seq: u64,
    },
    DeadLetterDiscarded {
        seq: u64,
    },
    /// `None` when asked of the store with no gateway running.
    Listening {
        listening: Option<Listening>,
    },
    Doctor(Box<super::doctor::DoctorFacts>),
}

/// The addresses a running gateway's listeners are bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listening {
    pub https: std::net::SocketAddr,
    pub kiosk: Option<std::net::SocketAddr>,
}

/// Run one technician command with the CLI as the actor.
pub async fn execute(svc: &Services, req: AdminRequest) -> ServiceResult<AdminResponse> {
    let actor = Actor::Cli;
    Ok(match req {
        AdminRequest::Init { input } => AdminResponse::Bootstrap(svc.init_admin(input).await?),
        AdminRequest::UserAdd { input, units } => {
            let mut ids = Vec::new();
            for r in units {
                ids.push(svc.resolve_unit(r.kind, r.key).await?.id);
            }
            AdminResponse::User {
                user: svc.create_user(actor, input, ids).await?,
            }
        }
        AdminRequest::UserList { after, limit } => {
            let after = after.as_deref().map(UserId::parse).transpose()?;
            AdminResponse::Users {
                users: svc.list_users(after, limit).await?,
            }
        }
        AdminRequest::UserShow { id } => {
            AdminResponse::Profile(Box::new(svc.user_detail(UserId::parse(&id)?).await?.into()))
        }
        AdminRequest::UserDeactivate { id } => AdminResponse::User {
            user: svc.deactivate_user(actor, UserId::parse(&id)?).await?,
        },
        AdminRequest::UnitAdd { kind, name } => AdminResponse::Unit {
            unit: svc.create_unit(actor, kind, name).await?,
        },
        AdminRequest::UnitList { kind } => AdminResponse::Units {
            units: svc.list_units(kind).await?,
        },
        AdminRequest::TrainingAdd { module } => AdminResponse::Module {
            module: svc.add_module(actor, module).await?,
        },
        AdminRequest::TrainingAssign {
            module,
            target,
            due_at,
        } => {
            let module = svc.resolve_module(module).await?;
            let target = match target {
                TargetRef::Unit(r) => {
                    let unit = svc.resolve_unit(r.kind, r.key).await?;
                    AssignmentTarget::unit(unit.kind, unit.id)
                }
                TargetRef::User { id } => AssignmentTarget::User(UserId::parse(&id)?),
            };
            let assignment = svc.assign_module(actor, module.id, target, due_at).await?;
            AdminResponse::Assignment { assignment, module }
        }
        AdminRequest::UserPin { id } => {
            let id = UserId::parse(&id)?;
            let pin = svc.issue_pin(actor, id.clone()).await?;
            AdminResponse::Pin {
                user_id: id.to_string(),
                pin,
            }
        }
        AdminRequest::UserOtp { id } => AdminResponse::Otp(svc.issue_otp(actor, UserId::parse(&id)?).await?),
        AdminRequest::DeviceList => AdminResponse::Devices {
            devices: svc.list_devices().await?.0,
        },
        AdminRequest::DeviceChange { id, change } => {
            let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| {
                crate::domain::DomainError::invalid(
                    "id",
                    format!("{id:?} is not a device ID (a UUID, see `sitegate device list`)"),
                )
            })?;
            AdminResponse::Device {
                device: svc.change_device(actor, id, change).await?,
            }
        }
        AdminRequest::TrainingList => AdminResponse::Catalogue {
            modules: svc.list_modules().await?,
            assignments: svc.list_assignments().await?,
            units: svc.list_units(None).await?,
        },
        AdminRequest::LinkAdd { link } => {
            let mut allocation = Allocation::default();
            for r in link.units {
                let unit = svc.resolve_unit(r.kind, r.key).await?;
                match unit.kind {
                    UnitKind::Group => allocation.groups.insert(unit.id),
                    UnitKind::Site => allocation.sites.insert(unit.id),
                    UnitKind::Region => allocation.regions.insert(unit.id),
                };
            }
            let input = LinkInput {
                name: link.name,
                description: link.description,
                expires_at: link.expires_at,
                cap: link.cap,
                allocation,
                pinned: link.pinned,
            };
            link_answer(svc, svc.create_link(actor, input).await?).await
        }
        AdminRequest::LinkList => AdminResponse::Links {
            links: svc.list_links().await?,
            base_url: svc.public_url.get().await,
        },
        AdminRequest::LinkShow { link } => {
            let id = svc.resolve_link(link).await?.id;
            AdminResponse::LinkReport {
                link: Box::new(svc.link_detail(id).await?),
                usage: Box::new(svc.link_usage(id).await?),
                base_url: svc.public_url.get().await,
            }
        }
        AdminRequest::LinkDeactivate { link } => {
            let id = svc.resolve_link(link).await?.id;
            link_answer(svc, svc.set_link_active(actor, id, false).await?).await
        }
        AdminRequest::LinkReactivate { link } => {
            let id = svc.resolve_link(link).await?.id;
            link_answer(svc, svc.set_link_active(actor, id, true).await?).await
        }
        AdminRequest::LinkPin { link, pinned } => {
            let id = svc.resolve_link(link).await?.id;
            let patch = LinkPatch {
                pinned: Some(pinned),
                ..Default::default()
            };
            link_answer(svc, svc.update_link(actor, id, patch).await?).await
        }
        AdminRequest::CentralJoin { input } => {
            let joined = svc.join_central(actor, &state_dir(svc)?, input).await?;
            svc.sync.wake();
            AdminResponse::Joined(joined)
        }
        AdminRequest::CentralLeave => {
            let left = svc.leave_central(actor, &state_dir(svc)?).await?;
            svc.sync.wake();
            AdminResponse::Left(left)
        }
        AdminRequest::SyncStatus => {
            AdminResponse::SyncStatus(Box::new(svc.sync_status(Some(&svc.sync)).await?))
        }
        AdminRequest::SyncNow => {
            svc.sync.wake();
            let s = svc.sync_status(Some(&svc.sync)).await?;
            AdminResponse::SyncWoken {
                state: s.state,
                summary: s.summary,
            }
        }
        AdminRequest::DeadLetterRetry { seq } => {
            svc.retry_dead_letter(actor, seq).await?;
            svc.sync.wake();
            AdminResponse::DeadLetterRetried { seq }
        }
        AdminRequest::DeadLetterDiscard { seq, reason } => {
            svc.discard_dead_letter(actor, seq, reason).await?;
            AdminResponse::DeadLetterDiscarded { seq }
        }
        AdminRequest::Listening => AdminResponse::Listening {
            listening: svc.listening,
        },
        AdminRequest::Doctor => AdminResponse::Doctor(Box::new(svc.doctor_facts().await?)),
    })
}

/// Where the central credential file lives: the state directory of the gateway (or store) served.
fn state_dir(svc: &Services) -> ServiceResult<std::path::PathBuf> {
    svc.sync
        .state_dir
        .clone()
        .ok_or_else(|| super::ServiceError::CentralFile("no state directory is known here".into()))
}

async fn link_answer(svc: &Services, link: LinkDetail) -> AdminResponse {
    AdminResponse::Link {
        link: Box::new(link),
        base_url: svc.public_url.get().await,
    }
}
