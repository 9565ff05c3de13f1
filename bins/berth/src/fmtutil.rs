//! Formatting helpers matching the Docker CLI (go-units, tabwriter, strconv.Quote).

use std::time::Duration;

/// go-units `HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let secs_f = d.as_secs_f64();
    let seconds = secs_f as i64;
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = (secs_f / 60.0) as i64;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (secs_f / 3600.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", (secs_f / 3600.0) as i64 / 24 / 365)
}

/// "X ago" for a unix timestamp (seconds), relative to now.
pub fn since_unix(created: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let created = Duration::from_secs(created.max(0) as u64);
    let d = now.saturating_sub(created);
    format!("{} ago", human_duration(d))
}

/// Go's `%.<prec>g` for non-negative values below 1e21.
fn format_g(x: f64, prec: usize) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let prec = prec.max(1);
    let e_form = format!("{:.*e}", prec - 1, x);
    let (mant, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    if exp < -4 || exp >= prec as i32 {
        let m = if digits.len() > 1 {
            let (a, b) = digits.split_at(1);
            let b = b.trim_end_matches('0');
            if b.is_empty() {
                a.to_string()
            } else {
                format!("{a}.{b}")
            }
        } else {
            digits.clone()
        };
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let s = if exp >= 0 {
        let int_len = exp as usize + 1;
        let mut d = digits.clone();
        while d.len() < int_len {
            d.push('0');
        }
        let (a, b) = d.split_at(int_len);
        if b.is_empty() {
            a.to_string()
        } else {
            format!("{a}.{b}")
        }
    } else {
        format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// go-units `HumanSizeWithPrecision` (decimal units: kB, MB, GB, ...).
pub fn human_size_prec(size: f64, prec: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = size;
    let mut i = 0;
    while size >= 1000.0 && i < UNITS.len() - 1 {
        size /= 1000.0;
        i += 1;
    }
    format!("{}{}", format_g(size, prec), UNITS[i])
}

/// go-units `HumanSize` (precision 4).
pub fn human_size(size: f64) -> String {
    human_size_prec(size, 4)
}

/// go-units `BytesSize` (binary units: KiB, MiB, ...), precision 4.
pub fn bytes_size(size: f64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut size = size;
    let mut i = 0;
    while size >= 1024.0 && i < UNITS.len() - 1 {
        size /= 1024.0;
        i += 1;
    }
    format!("{}{}", format_g(size, 4), UNITS[i])
}

/// go-units `RAMInBytes`: "64m", "1g", "512", "1.5GiB" -> bytes (binary multiples).
pub fn ram_in_bytes(s: &str) -> Result<i64, String> {
    let sep = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ');
    let Some(sep) = sep else {
        return Err(format!("invalid size: '{s}'"));
    };
    let (num, sfx) = if s.as_bytes()[sep] != b' ' {
        (&s[..=sep], &s[sep + 1..])
    } else {
        (&s[..sep], &s[sep + 1..])
    };
    let size: f64 = num.parse().map_err(|_| {
        format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            crate::fmtutil::go_quote(num)
        )
    })?;
    if size < 0.0 {
        return Err(format!("invalid size: '{s}'"));
    }
    if sfx.is_empty() {
        return Ok(size as i64);
    }
    let bad = |sfx: &str| Err(format!("invalid suffix: '{sfx}'"));
    if sfx.len() > 3 {
        return bad(sfx);
    }
    let lower = sfx.to_ascii_lowercase();
    let b = lower.as_bytes();
    if b[0] == b'b' {
        if b.len() > 1 {
            return bad(&lower);
        }
        return Ok(size as i64);
    }
    let mul: f64 = match b[0] {
        b'k' => 1024.0,
        b'm' => 1024.0 * 1024.0,
        b'g' => 1024.0 * 1024.0 * 1024.0,
        b't' => 1024f64.powi(4),
        b'p' => 1024f64.powi(5),
        _ => return bad(&lower),
    };
    if (b.len() == 2 && b[1] != b'b') || (b.len() == 3 && &lower[1..] != "ib") {
        return bad(&lower);
    }
    Ok((size * mul) as i64)
}

/// An I/O error as Go prints a syscall error ("no such file or directory").
pub fn go_io_error(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            // SAFETY: strerror returns a valid NUL-terminated string for any errno.
            let msg = unsafe { std::ffi::CStr::from_ptr(libc::strerror(code)) }
                .to_string_lossy()
                .into_owned();
            let mut c = msg.chars();
            match c.next() {
                Some(first) => first.to_lowercase().chain(c).collect(),
                None => msg,
            }
        }
        None => e.to_string(),
    }
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// docker's `formatter.Ellipsis`: cut to `max` display chars, ending in "…".
pub fn ellipsis(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Strip an algorithm prefix ("sha256:") and keep 12 characters.
pub fn truncate_id(id: &str) -> String {
    let id = id.split_once(':').map(|(_, h)| h).unwrap_or(id);
    id.chars().take(12).collect()
}

/// An id as listings show it: truncated to 12 characters, or whole.
pub fn display_id(id: &str, trunc: bool) -> String {
    if trunc {
        truncate_id(id)
    } else {
        id.to_string()
    }
}

/// Go's `time.RFC3339` layout for a unix timestamp, in local time
/// (`2006-01-02T15:04:05Z` in UTC, else with the offset).
pub fn rfc3339_local(unix: i64) -> String {
    use chrono::{Local, TimeZone};
    match Local.timestamp_opt(unix, 0).single() {
        Some(t) => {
            let off = t.format("%:z").to_string();
            let off = if off == "+00:00" {
                "Z".to_string()
            } else {
                off
            };
            format!("{}{off}", t.format("%Y-%m-%dT%H:%M:%S"))
        }
        None => unix.to_string(),
    }
}

/// Go's `time.Time.String()` for a unix timestamp, in local time.
pub fn go_time_string(unix: i64) -> String {
    use chrono::{Local, TimeZone};
    match Local.timestamp_opt(unix, 0).single() {
        Some(t) => {
            let off = t.format("%z").to_string();
            let zone = if off == "+0000" {
                "UTC".to_string()
            } else {
                off.clone()
            };
            format!("{} {} {}", t.format("%Y-%m-%d %H:%M:%S"), off, zone)
        }
        None => unix.to_string(),
    }
}

/// Parse a Go duration string ("10m", "1h30m", "1.5s", "300ms").
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let mul = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * mul;
    }
    Some(Duration::from_secs_f64(total))
}

/// Convert a `--since`/`--until` value to the API's timestamp form: Go
/// durations are relative to now, RFC 3339 dates are converted, numeric
/// timestamps are passed through.
pub fn api_timestamp(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    if let Some(d) = parse_go_duration(v) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let t = now.saturating_sub(d);
        return Ok(format!("{}.{:09}", t.as_secs(), t.subsec_nanos()));
    }
    if v.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Ok(v.to_string());
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(format!(
            "{}.{:09}",
            t.timestamp(),
            t.timestamp_subsec_nanos()
        ));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, fmt) {
            let t = t.and_utc();
            return Ok(format!(
                "{}.{:09}",
                t.timestamp(),
                t.timestamp_subsec_nanos()
            ));
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(v, fmt) {
            let t = d.and_hms_opt(0, 0, 0).unwrap().and_utc();
            return Ok(format!("{}.{:09}", t.timestamp(), 0));
        }
    }
    Err(format!(
        "failed to parse value as time or duration: {value:?}"
    ))
}

/// Go's `text/tabwriter` with flags 0 (left-aligned, pad with spaces).
pub struct TabWriter {
    minwidth: usize,
    padding: usize,
}

impl TabWriter {
    /// Writer with Go's `minwidth` and `padding` (tabwidth irrelevant for ' ' padding).
    pub fn new(minwidth: usize, padding: usize) -> TabWriter {
        TabWriter { minwidth, padding }
    }

    /// Align `text` (cells separated by '\t', lines by '\n').
    pub fn format(&self, text: &str) -> String {
        let trailing_newline = text.ends_with('\n');
        let body = if trailing_newline {
            &text[..text.len() - 1]
        } else {
            text
        };
        let lines: Vec<Vec<&str>> = body.split('\n').map(|l| l.split('\t').collect()).collect();
        let mut out = String::new();
        let mut widths = Vec::new();
        self.format_block(&lines, 0, lines.len(), &mut widths, &mut out);
        if !trailing_newline && out.ends_with('\n') {
            out.pop();
        }
        out
    }

    fn format_block(
        &self,
        lines: &[Vec<&str>],
        mut line0: usize,
        line1: usize,
        widths: &mut Vec<usize>,
        out: &mut String,
    ) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= lines[this].len() {
                this += 1;
                continue;
            }
            self.write_lines(lines, line0, this, widths, out);
            line0 = this;
            let mut width = self.minwidth;
            while this < line1 && column + 1 < lines[this].len() {
                let w = lines[this][column].chars().count() + self.padding;
                if w > width {
                    width = w;
                }
                this += 1;
            }
            widths.push(width);
            self.format_block(lines, line0, this, widths, out);
            widths.pop();
            line0 = this;
        }
        self.write_lines(lines, line0, line1, widths, out);
    }

    fn write_lines(
        &self,
        lines: &[Vec<&str>],
        line0: usize,
        line1: usize,
        widths: &[usize],
        out: &mut String,
    ) {
        for line in &lines[line0..line1] {
            for (j, cell) in line.iter().enumerate() {
                out.push_str(cell);
                if j < widths.len() && j + 1 < line.len() {
                    let w = cell.chars().count();
                    out.push_str(&" ".repeat(widths[j].saturating_sub(w)));
                }
            }
            out.push('\n');
        }
    }
}

/// Docker's table writer: minwidth 10, padding 3.
pub fn table(text: &str) -> String {
    TabWriter::new(10, 3).format(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let s = Duration::from_secs;
        assert_eq!(
            human_duration(Duration::from_millis(500)),
            "Less than a second"
        );
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(5)), "5 seconds");
        assert_eq!(human_duration(s(60)), "About a minute");
        assert_eq!(human_duration(s(119)), "About a minute");
        assert_eq!(human_duration(s(120)), "2 minutes");
        assert_eq!(human_duration(s(3599)), "59 minutes");
        assert_eq!(human_duration(s(3600)), "About an hour");
        assert_eq!(human_duration(s(5400)), "2 hours");
        assert_eq!(human_duration(s(47 * 3600)), "47 hours");
        assert_eq!(human_duration(s(3 * 86400)), "3 days");
        assert_eq!(human_duration(s(20 * 86400)), "2 weeks");
        assert_eq!(human_duration(s(90 * 86400)), "3 months");
        assert_eq!(human_duration(s(800 * 86400)), "2 years");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(1000.0), "1kB");
        assert_eq!(human_size(1982000.0), "1.982MB");
        assert_eq!(human_size_prec(1982000.0, 3), "1.98MB");
        assert_eq!(human_size_prec(4_260_000.0, 3), "4.26MB");
        assert_eq!(human_size(4_260_000.0), "4.26MB");
        assert_eq!(human_size(1_234_567_890.0), "1.235GB");
        assert_eq!(human_size_prec(123_456_789.0, 3), "123MB");
        assert_eq!(bytes_size(64.0 * 1024.0 * 1024.0), "64MiB");
        assert_eq!(format_g(0.00001234, 4), "1.234e-05");
    }

    #[test]
    fn ram() {
        assert_eq!(ram_in_bytes("64m").unwrap(), 64 << 20);
        assert_eq!(ram_in_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(ram_in_bytes("1GiB").unwrap(), 1 << 30);
        assert_eq!(ram_in_bytes("512").unwrap(), 512);
        assert_eq!(ram_in_bytes("512b").unwrap(), 512);
        assert_eq!(ram_in_bytes("1.5k").unwrap(), 1536);
        assert_eq!(ram_in_bytes("12q").unwrap_err(), "invalid suffix: 'q'");
        assert_eq!(ram_in_bytes("abc").unwrap_err(), "invalid size: 'abc'");
        assert_eq!(ram_in_bytes("1mx").unwrap_err(), "invalid suffix: 'mx'");
    }

    #[test]
    fn quoting_and_ellipsis() {
        assert_eq!(go_quote("sleep 300"), "\"sleep 300\"");
        assert_eq!(go_quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(
            ellipsis("sh -c 'while true; do echo hi; done'", 20),
            "sh -c 'while true; …"
        );
        assert_eq!(ellipsis("short", 20), "short");
        assert_eq!(
            truncate_id("sha256:fe711d61c2f17ffd71ad6b0e"),
            "fe711d61c2f1"
        );
        assert_eq!(truncate_id("52c964614251a6d9d90800f648"), "52c964614251");
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("abc"), None);
        assert_eq!(api_timestamp("1700000000").unwrap(), "1700000000");
        assert_eq!(
            api_timestamp("2023-11-14T22:13:20Z").unwrap(),
            "1700000000.000000000"
        );
    }

    #[test]
    fn tabwriter_matches_docker() {
        let t = table("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n52c964614251\tbusybox\t\"sleep 300\"\t2 minutes ago\tUp 2 minutes\t\tt1\n");
        assert_eq!(
            t,
            "CONTAINER ID   IMAGE     COMMAND       CREATED         STATUS         PORTS     NAMES\n\
             52c964614251   busybox   \"sleep 300\"   2 minutes ago   Up 2 minutes             t1\n"
        );
        // Lines without tabs break column blocks (Go semantics).
        let v = TabWriter::new(20, 1).format(
            "Client:\n Version:\t1\n API version:\t1.41\n\nServer:\n Engine:\n  Version:\t20\n",
        );
        assert_eq!(
            v,
            "Client:\n Version:           1\n API version:       1.41\n\nServer:\n Engine:\n  Version:          20\n"
        );
    }
}
