//! Throttling rules and the odds they allow, driven by explicit times (no clock, no sleep).

use super::*;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-25 08:00 UTC);

#[test]
fn account_waits_from_the_sixth_try_doubling_from_30_s_to_an_hour() {
    let limits = ThrottleLimits::default();
    let mut a = AccountThrottle::default();
    let mut now = T0;
    for _ in 0..5 {
        assert_eq!(a.wait(&limits, now), None);
        a.record_failure(now);
    }
    assert_eq!(a.wait(&limits, now), Some(Duration::seconds(30)));
    now += Duration::seconds(30);
    assert_eq!(a.wait(&limits, now), None);
    a.record_failure(now);
    assert_eq!(a.delay(&limits), Duration::seconds(60));
    for _ in 0..20 {
        a.record_failure(now);
    }
    assert_eq!(a.delay(&limits), Duration::hours(1), "capped at an hour");
    assert_eq!(
        a.wait(&limits, now + Duration::minutes(59)),
        Some(Duration::minutes(1))
    );
}

#[test]
fn a_clock_set_back_never_shortens_a_wait() {
    let limits = ThrottleLimits::default();
    let mut a = AccountThrottle::default();
    for _ in 0..6 {
        a.record_failure(T0);
    }
    // An hour back: the wait is the full delay, not "already over" and not negative.
    assert_eq!(
        a.wait(&limits, T0 - Duration::hours(1)),
        Some(Duration::seconds(60))
    );
    let mut w = FailureWindow::default();
    for _ in 0..20 {
        w.record(T0, limits.window, 20);
    }
    assert!(
        w.exhausted_until(20, limits.window, T0 - Duration::hours(3))
            .is_some()
    );
}

#[test]
fn the_monotonic_mark_ignores_jumps_back_and_follows_time_forward() {
    let m = MonotonicMark::advance(None, T0);
    let m = MonotonicMark::advance(Some(m), T0 + Duration::minutes(10));
    assert_eq!(m.at, T0 + Duration::minutes(10));
    let back = MonotonicMark::advance(Some(m), T0 - Duration::hours(5));
    assert_eq!(
        back.at,
        T0 + Duration::minutes(10),
        "a jump back does not move it"
    );
    let on = MonotonicMark::advance(Some(back), T0 - Duration::hours(5) + Duration::minutes(1));
    assert_eq!(on.at, T0 + Duration::minutes(11), "and it resumes from there");
}

#[test]
fn windows_roll_and_keep_at_most_their_budget() {
    let limits = ThrottleLimits::default();
    let mut w = FailureWindow::default();
    for i in 0..50 {
        w.record(T0 + Duration::minutes(i), limits.window, 20);
    }
    assert_eq!(w.failures.len(), 20);
    let last = T0 + Duration::minutes(49);
    let until = w.exhausted_until(20, limits.window, last).unwrap();
    assert_eq!(until, T0 + Duration::minutes(30) + limits.window);
    assert_eq!(w.exhausted_until(20, limits.window, until), None);
}

#[test]
fn check_order_site_then_device_then_account_and_the_box_kiosk_is_exempt() {
    let limits = ThrottleLimits::default();
    let mut site = SiteThrottle::default();
    for _ in 0..300 {
        site.window.record(T0, limits.window, 300);
    }
    let none = FailureWindow::default();
    assert_eq!(
        check(&limits, T0, SourceKind::Headset, &site, &none, None),
        Err(Refusal::SiteSuspended)
    );
    assert_eq!(
        check(&limits, T0, SourceKind::BoxKiosk, &site, &none, None),
        Ok(())
    );
    let mut dev = FailureWindow::default();
    for _ in 0..100 {
        dev.record(T0, limits.window, 100);
    }
    assert!(matches!(
        check(&limits, T0, SourceKind::BoxKiosk, &site, &dev, None),
        Err(Refusal::DeviceThrottled { .. })
    ));
}

/// An attacker with unlimited source addresses guesses for a whole day at full speed against
/// many named users. Count how many guesses the implemented rules let through to a credential
/// check, then turn that into odds.
#[test]
fn random_guessing_for_a_day_is_capped_by_the_site_budget() {
    let limits = ThrottleLimits::default();
    let mut site = SiteThrottle::default();
    let mut accounts = vec![AccountThrottle::default(); 1000];
    let mut checked = 0u32;
    let mut now = T0;
    let end = T0 + limits.window;
    let mut i = 0usize;
    while now < end {
        // A fresh source address every try: the per-device budget never bites.
        let device = FailureWindow::default();
        let account = &mut accounts[i % 1000];
        if check(&limits, now, SourceKind::Address, &site, &device, Some(account)).is_ok() {
            checked += 1;
            account.record_failure(now);
            site.window.record(now, limits.window, limits.site_failures);
        }
        i += 1;
        now += Duration::seconds(10);
    }
    assert_eq!(checked, limits.site_failures);
    let o = odds(&OddsInput {
        limits,
        pin_length: 6,
        active_users: 1000,
        pin_only_login: false,
        otp_max_outstanding: 30,
        otp_digits: 8,
        totp_skew_steps: 1,
        totp_digits: 6,
    });
    assert_eq!(o.guesses_per_day, checked);
    let per_day = f64::from(checked) * o.per_guess_worst;
    assert!((per_day - o.per_day).abs() < 1e-12);
    assert!(o.per_day < 1.0 / 1000.0, "odds {} per day", o.per_day);
    assert!((o.per_guess_totp - 3e-6).abs() < 1e-15);
}

#[test]
fn pin_only_login_multiplies_the_pin_odds_by_the_active_users() {
    let input = OddsInput {
        limits: ThrottleLimits::default(),
        pin_length: 6,
        active_users: 1000,
        pin_only_login: true,
        otp_max_outstanding: 30,
        otp_digits: 8,
        totp_skew_steps: 1,
        totp_digits: 6,
    };
    let o = odds(&input);
    assert!((o.per_guess_pin - 1e-3).abs() < 1e-12);
    assert!(
        o.per_day > 0.2,
        "PIN-only with 1,000 users is weak: {}",
        o.per_day
    );
}
