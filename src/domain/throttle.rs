//! Credential throttling: per-account backoff, per-device and site-wide rolling budgets, a clock that never runs back, and the odds they allow.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The limits, from configuration (DESIGN.md "Credentials" gives the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Consecutive failures on one account before each further try must wait.
    pub account_free_failures: u32,
    /// The first wait; it doubles with each further failure…
    pub account_base_delay: Duration,
    /// …up to this.
    pub account_max_delay: Duration,
    /// Failures per rolling window for a headset or a laptop source address.
    pub device_failures: u32,
    /// Failures per rolling window for a kiosk (people type there, slowly, in gloves).
    pub kiosk_failures: u32,
    /// Failures per rolling window over the whole site.
    pub site_failures: u32,
    /// The rolling window of the device and site budgets.
    pub window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            account_free_failures: 5,
            account_base_delay: Duration::seconds(30),
            account_max_delay: Duration::hours(1),
            device_failures: 20,
            kiosk_failures: 100,
            site_failures: 300,
            window: Duration::hours(24),
        }
    }
}

/// Where a login attempt comes from, for the per-device budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The kiosk browser on the box (loopback listener): keeps working while the site is suspended.
    BoxKiosk,
    /// A paired kiosk tablet.
    KioskDevice,
    /// A paired headset.
    Headset,
    /// A laptop browser or script, counted by source address.
    Address,
}

impl SourceKind {
    /// The per-device failure budget for this kind of source.
    pub fn budget(self, limits: &ThrottleLimits) -> u32 {
        match self {
            SourceKind::BoxKiosk | SourceKind::KioskDevice => limits.kiosk_failures,
            SourceKind::Headset | SourceKind::Address => limits.device_failures,
        }
    }
}

/// One account's consecutive failures. Never a lockout: only a growing wait, reset by a success.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountThrottle {
    pub consecutive_failures: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_failure_at: Option<OffsetDateTime>,
}

impl AccountThrottle {
    /// The wait that must pass after the last failure before the next try.
    pub fn delay(&self, limits: &ThrottleLimits) -> Duration {
        let Some(extra) = self
            .consecutive_failures
            .checked_sub(limits.account_free_failures)
        else {
            return Duration::ZERO;
        };
        let mut d = limits.account_base_delay;
        for _ in 0..extra.min(32) {
            d = d.saturating_mul(2);
            if d >= limits.account_max_delay {
                return limits.account_max_delay;
            }
        }
        d.min(limits.account_max_delay)
    }

    /// How long the account must still wait at `now` (none: it may try).
    pub fn wait(&self, limits: &ThrottleLimits, now: OffsetDateTime) -> Option<Duration> {
        let last = self.last_failure_at?;
        let elapsed = (now - last).max(Duration::ZERO);
        let left = self.delay(limits) - elapsed;
        (left > Duration::ZERO).then_some(left)
    }

    pub fn record_failure(&mut self, now: OffsetDateTime) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.last_failure_at = Some(now);
    }

    /// Nothing worth keeping: no recent failure (an account idle for a whole window starts afresh).
    pub fn is_stale(&self, limits: &ThrottleLimits, now: OffsetDateTime) -> bool {
        self.last_failure_at
            .is_none_or(|t| now - t >= limits.window + limits.account_max_delay)
    }
}

/// Failures in a rolling window: at most `budget` timestamps are kept (older ones cannot matter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureWindow {
    /// Oldest first.
    #[serde(with = "rfc3339_vec")]
    pub failures: Vec<OffsetDateTime>,
}

impl FailureWindow {
    fn recent(&self, window: Duration, now: OffsetDateTime) -> impl Iterator<Item = &OffsetDateTime> {
        self.failures.iter().filter(move |t| now - **t < window)
    }

    /// Failures inside the window ending at `now`.
    pub fn count(&self, window: Duration, now: OffsetDateTime) -> u32 {
        u32::try_from(self.recent(window, now).count()).unwrap_or(u32::MAX)
    }

    /// When the budget is used up: the moment it frees a slot again.
    pub fn exhausted_until(
        &self,
        budget: u32,
        window: Duration,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        let recent: Vec<&OffsetDateTime> = self.recent(window, now).collect();
        let budget = usize::try_from(budget).unwrap_or(usize::MAX);
        if recent.len() < budget {
            return None;
        }
        let oldest_that_counts = recent.get(recent.len() - budget.max(1)).copied()?;
        Some(*oldest_that_counts + window)
    }

    /// Add a failure, keeping at most `keep` timestamps.
    pub fn record(&mut self, now: OffsetDateTime, window: Duration, keep: u32) {
        self.failures.retain(|t| now - *t < window);
        self.failures.push(now);
        let keep = usize::try_from(keep.max(1)).unwrap_or(usize::MAX);
        if self.failures.len() > keep {
            let drop = self.failures.len() - keep;
            self.failures.drain(..drop);
        }
    }

    pub fn is_stale(&self, window: Duration, now: OffsetDateTime) -> bool {
        self.count(window, now) == 0
    }
}

/// The site-wide budget and whether staff were alerted about its suspension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteThrottle {
    pub window: FailureWindow,
    /// Set when the suspension alert was raised, so it is raised once per suspension.
    pub alerted: bool,
}

/// Why an attempt is refused before its credential is even looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Site-wide budget used up: logins from headsets and laptops are suspended until staff clear it.
    SiteSuspended,
    /// This device's budget is used up until then (or until staff clear it).
    DeviceThrottled { until: OffsetDateTime },
    /// The named account must wait this long.
    AccountBackoff { wait: Duration },
}

/// Decide whether an attempt may be tried at all. Checked before the credential, so that a
/// refusal says nothing about whether the credential was right.
pub fn check(
    limits: &ThrottleLimits,
    now: OffsetDateTime,
    kind: SourceKind,
    site: &SiteThrottle,
    device: &FailureWindow,
    account: Option<&AccountThrottle>,
) -> Result<(), Refusal> {
    if kind != SourceKind::BoxKiosk && site.window.count(limits.window, now) >= limits.site_failures {
        return Err(Refusal::SiteSuspended);
    }
    if let Some(until) = device.exhausted_until(kind.budget(limits), limits.window, now) {
        return Err(Refusal::DeviceThrottled { until });
    }
    if let Some(wait) = account.and_then(|a| a.wait(limits, now)) {
        return Err(Refusal::AccountBackoff { wait });
    }
    Ok(())
}

/// A clock for security windows that never runs backwards: it follows the wall clock forward and
/// ignores jumps back (time then resumes from where it was). Persisted, so restarts keep it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonotonicMark {
    /// The security time last handed out.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The wall clock when it was handed out.
    #[serde(with = "time::serde::rfc3339")]
    pub wall: OffsetDateTime,
}

impl MonotonicMark {
    /// The security time at wall time `now`, and the mark to keep.
    pub fn advance(previous: Option<MonotonicMark>, now: OffsetDateTime) -> MonotonicMark {
        match previous {
            None => MonotonicMark { at: now, wall: now },
            Some(m) => MonotonicMark {
                at: m.at + (now - m.wall).max(Duration::ZERO),
                wall: now,
            },
        }
    }
}

/// The odds that random guessing opens some account in a day, computed from the limits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Odds {
    /// Chance that one PIN guess opens an account (for a named user; times active users when PIN-only).
    pub per_guess_pin: f64,
    /// Chance that one TOTP guess is accepted (±1 step: three codes).
    pub per_guess_totp: f64,
    /// Chance that one one-time-password guess (entered alone) hits an outstanding one.
    pub per_guess_otp: f64,
    /// The worst of the three: what an attacker would use.
    pub per_guess_worst: f64,
    /// Failed guesses the site-wide budget allows per window from the LAN (headsets, laptops).
    pub guesses_per_day: u32,
    /// Chance of opening any account in a day over the LAN: guesses × worst per-guess odds.
    pub per_day: f64,
    /// Extra failed guesses the kiosk on the box may still make once the site is suspended
    /// (someone standing at the gate, outside the LAN attacker model).
    pub kiosk_guesses_per_day: u32,
    /// Chance for those kiosk guesses (PIN with a named user, or a one-time password).
    pub kiosk_per_day: f64,
    /// Whether PIN-only login is on, multiplying the PIN odds by the active users.
    pub pin_only_login: bool,
    pub active_users: u64,
}

/// What the odds depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OddsInput {
    pub limits: ThrottleLimits,
    pub pin_length: u8,
    pub active_users: u64,
    pub pin_only_login: bool,
    pub otp_max_outstanding: u32,
    pub otp_digits: u8,
    /// Steps accepted either side of now (1 = three codes).
    pub totp_skew_steps: u32,
    pub totp_digits: u8,
}

fn space(digits: u8) -> f64 {
    10f64.powi(i32::from(digits))
}

/// Compute the odds from the implemented limits.
pub fn odds(input: &OddsInput) -> Odds {
    let pin_named = 1.0 / space(input.pin_length);
    let per_guess_pin = if input.pin_only_login {
        (input.active_users as f64 * pin_named).min(1.0)
    } else {
        pin_named
    };
    let per_guess_totp = (f64::from(2 * input.totp_skew_steps + 1) / space(input.totp_digits)).min(1.0);
    let per_guess_otp = (f64::from(input.otp_max_outstanding) / space(input.otp_digits)).min(1.0);
    let per_guess_worst = per_guess_pin.max(per_guess_totp).max(per_guess_otp);
    let guesses = input.limits.site_failures;
    let kiosk_guesses = input.limits.kiosk_failures;
    let kiosk_per_guess = pin_named.max(per_guess_otp);
    Odds {
        per_guess_pin,
        per_guess_totp,
        per_guess_otp,
        per_guess_worst,
        guesses_per_day: guesses,
        per_day: (f64::from(guesses) * per_guess_worst).min(1.0),
        kiosk_guesses_per_day: kiosk_guesses,
        kiosk_per_day: (f64::from(kiosk_guesses) * kiosk_per_guess).min(1.0),
        pin_only_login: input.pin_only_login,
        active_users: input.active_users,
    }
}

mod rfc3339_vec {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use time::OffsetDateTime;

    #[derive(Serialize, Deserialize)]
    struct T(#[serde(with = "time::serde::rfc3339")] OffsetDateTime);

    pub fn serialize<S: Serializer>(v: &[OffsetDateTime], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|t| T(*t)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OffsetDateTime>, D::Error> {
        Ok(Vec::<T>::deserialize(d)?.into_iter().map(|t| t.0).collect())
    }
}

#[cfg(test)]
mod tests;
