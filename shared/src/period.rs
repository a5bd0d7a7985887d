//! Calendar windows in UTC and the few date computations they need.
//!
//! A window is identified by its start in epoch milliseconds: minute, hour,
//! day (00:00), week (Monday 00:00) and month (the 1st, 00:00). `window_start`
//! and `window_end` are pure functions of the period and a clock reading, so
//! every caller passes the clock in and tests can pick any instant (month
//! ends, leap years, the epoch's Thursday). Dates use the proleptic Gregorian
//! calendar; no time zones, no leap seconds.

use serde::{Deserialize, Serialize};

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Minute,
    Hour,
    Day,
    Week,
    Month,
}

impl Period {
    pub const ALL: [Period; 5] = [
        Period::Minute,
        Period::Hour,
        Period::Day,
        Period::Week,
        Period::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Nominal length in seconds, as `x-ratelimit-policy` reports it.
    pub fn nominal_seconds(self) -> u64 {
        match self {
            Period::Minute => 60,
            Period::Hour => 3_600,
            Period::Day => 86_400,
            Period::Week => 604_800,
            Period::Month => 2_592_000,
        }
    }

    /// Index into [`Period::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Start (inclusive) of the window of `period` that contains `now_ms`.
pub fn window_start(period: Period, now_ms: i64) -> i64 {
    match period {
        Period::Minute => now_ms.div_euclid(MINUTE_MS) * MINUTE_MS,
        Period::Hour => now_ms.div_euclid(HOUR_MS) * HOUR_MS,
        Period::Day => now_ms.div_euclid(DAY_MS) * DAY_MS,
        Period::Week => {
            let days = now_ms.div_euclid(DAY_MS);
            // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
            let weekday = (days + 3).rem_euclid(7);
            (days - weekday) * DAY_MS
        }
        Period::Month => {
            let (y, m, _) = civil_from_days(now_ms.div_euclid(DAY_MS));
            days_from_civil(y, m, 1) * DAY_MS
        }
    }
}

/// End (exclusive) of the window of `period` that contains `now_ms`: the
/// instant the counter resets.
pub fn window_end(period: Period, now_ms: i64) -> i64 {
    let start = window_start(period, now_ms);
    match period {
        Period::Minute => start + MINUTE_MS,
        Period::Hour => start + HOUR_MS,
        Period::Day => start + DAY_MS,
        Period::Week => start + 7 * DAY_MS,
        Period::Month => {
            let (y, m, _) = civil_from_days(start.div_euclid(DAY_MS));
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            days_from_civil(ny, nm, 1) * DAY_MS
        }
    }
}

/// Seconds until `reset_ms`, rounded up and at least 1 (the contract's
/// `x-ratelimit-reset` and `retry-after`).
pub fn seconds_until(reset_ms: i64, now_ms: i64) -> u64 {
    let ms = (reset_ms - now_ms).max(0) as u64;
    ms.div_ceil(1000).max(1)
}

/// Days since 1970-01-01 of a civil date (month 1–12).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date (year, month 1–12, day 1–31) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// ISO-8601 UTC with seconds, e.g. `2026-11-28T00:00:00Z`.
pub fn iso8601(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS) / 1000;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// `YYYY-MM-DD` of the UTC day containing `ms`.
pub fn date_string(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD` into the epoch milliseconds of its 00:00 UTC.
pub fn parse_date(s: &str) -> Option<i64> {
    let shape_ok = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let mut parts = s.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || y == 0 || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Reject 2026-02-30 and friends: the round trip must give the same date.
    (civil_from_days(days) == (y, m, d)).then_some(days * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, m: u32, d: u32, h: i64, min: i64, s: i64) -> i64 {
        days_from_civil(y, m, d) * DAY_MS + h * HOUR_MS + min * MINUTE_MS + s * 1000
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn day_and_minute_windows_reset_at_utc_boundaries() {
        let now = at(2026, 11, 27, 23, 59, 59) + 999;
        assert_eq!(window_end(Period::Day, now), at(2026, 11, 28, 0, 0, 0));
        assert_eq!(
            window_start(Period::Day, now + 1),
            at(2026, 11, 28, 0, 0, 0)
        );
        assert_eq!(
            window_start(Period::Minute, now),
            at(2026, 11, 27, 23, 59, 0)
        );
        assert_eq!(window_end(Period::Hour, now), at(2026, 11, 28, 0, 0, 0));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-27 is a Friday; its week started Monday 2026-11-23.
        let now = at(2026, 11, 27, 12, 0, 0);
        assert_eq!(window_start(Period::Week, now), at(2026, 11, 23, 0, 0, 0));
        assert_eq!(window_end(Period::Week, now), at(2026, 11, 30, 0, 0, 0));
        // A Monday at 00:00 starts its own week.
        let monday = at(2026, 11, 30, 0, 0, 0);
        assert_eq!(window_start(Period::Week, monday), monday);
        // Before the epoch too (1969-12-31 was a Wednesday).
        assert_eq!(window_start(Period::Week, -1), at(1969, 12, 29, 0, 0, 0));
    }

    #[test]
    fn months_end_on_the_right_day_including_leap_years() {
        let feb_leap = at(2028, 2, 29, 23, 0, 0);
        assert_eq!(
            window_start(Period::Month, feb_leap),
            at(2028, 2, 1, 0, 0, 0)
        );
        assert_eq!(window_end(Period::Month, feb_leap), at(2028, 3, 1, 0, 0, 0));
        let feb = at(2026, 2, 28, 23, 59, 59);
        assert_eq!(window_end(Period::Month, feb), at(2026, 3, 1, 0, 0, 0));
        let dec = at(2026, 12, 31, 23, 59, 59);
        assert_eq!(window_end(Period::Month, dec), at(2027, 1, 1, 0, 0, 0));
        assert_eq!(
            window_end(Period::Month, at(2100, 2, 10, 0, 0, 0)),
            at(2100, 3, 1, 0, 0, 0)
        );
    }

    #[test]
    fn seconds_until_rounds_up_and_is_at_least_one() {
        assert_eq!(seconds_until(10_001, 0), 11);
        assert_eq!(seconds_until(10_000, 0), 10);
        assert_eq!(seconds_until(5, 10), 1);
    }

    #[test]
    fn iso_and_dates_format_and_parse() {
        assert_eq!(iso8601(at(2026, 11, 28, 0, 0, 0)), "2026-11-28T00:00:00Z");
        assert_eq!(iso8601(at(2024, 2, 29, 13, 5, 9)), "2024-02-29T13:05:09Z");
        assert_eq!(date_string(at(2024, 2, 29, 13, 5, 9)), "2024-02-29");
        assert_eq!(parse_date("2024-02-29"), Some(at(2024, 2, 29, 0, 0, 0)));
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("26-1-1"), None);
        assert_eq!(parse_date("0000-01-01"), None);
        assert_eq!(parse_date("+026-01-01"), None);
        assert_eq!(parse_date("2026-+1-01"), None);
    }

    #[test]
    fn periods_parse_and_report_nominal_lengths() {
        assert_eq!(Period::parse("week"), Some(Period::Week));
        assert_eq!(Period::parse("year"), None);
        assert_eq!(Period::Month.nominal_seconds(), 2_592_000);
    }
}
