//! Provider base-URL checks against server-side request forgery.
//!
//! An owner picks the URL the Worker will `fetch` with the owner's provider
//! key, so the URL must not make the Worker talk to something it should not
//! reach: loopback, private networks, link-local addresses and cloud metadata
//! endpoints. The check is a hand-written parser of
//! `scheme://host[:port][/path][?query][#fragment]` that is *stricter* than
//! the WHATWG URL parser the runtime's `fetch` uses, so that every host this
//! module accepts means the same thing to both:
//!
//! - credentials (`user:pass@`), whitespace, control characters, backslashes
//!   and percent-escapes or non-ASCII in the host are rejected outright;
//! - a host whose last label is numeric is parsed the way browsers and curl
//!   parse IPv4 (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`, `10.1`,
//!   trailing dot), and one that does not parse is rejected;
//! - bracketed IPv6 is parsed fully (`::`, embedded dotted IPv4, zone ids)
//!   and IPv4 embedded in it (mapped, compatible, translated, NAT64, 6to4) is
//!   classified as the IPv4 address it carries.
//!
//! Production accepts only public unicast addresses and ordinary names over
//! `https`. Development also accepts `http`, loopback and private addresses;
//! link-local, metadata and multicast/reserved addresses are refused in every
//! environment. Names are not resolved here (no DNS in pure code): a public
//! name that resolves to a private address is out of this module's reach.

/// `true` for every environment except `"development"`.
pub fn is_production(environment: &str) -> bool {
    environment.trim() != "development"
}

/// What a host designates, from the point of view of SSRF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Public,
    Loopback,
    /// Private, shared (CGNAT), "this network", unique-local.
    Private,
    LinkLocal,
    Metadata,
    /// Multicast, broadcast, reserved: never an HTTP server.
    NotUnicast,
}

/// The longest URL accepted.
const MAX_URL_LEN: usize = 2048;

/// Checks a provider base URL. `Err` carries a message for the owner.
pub fn check_base_url(url: &str, production: bool) -> Result<(), String> {
    if url.is_empty() {
        return Err("baseUrl must not be empty".into());
    }
    if url.len() > MAX_URL_LEN {
        return Err(format!("baseUrl must be at most {MAX_URL_LEN} characters"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("baseUrl must not contain whitespace or control characters".into());
    }
    if url.contains('\\') {
        return Err("baseUrl must not contain backslashes".into());
    }
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i], &url[i + 3..]),
        None => return Err("baseUrl must be an absolute http(s) URL".into()),
    };
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "https" => {}
        "http" if !production => {}
        "http" => return Err("baseUrl must use https in production".into()),
        _ => return Err("baseUrl must use http or https".into()),
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return Err("baseUrl must not contain credentials (user@host)".into());
    }
    let host = split_port(authority)?;
    let class = classify_host(host)?;
    let allowed = match class {
        Class::Public => true,
        Class::Loopback | Class::Private => !production,
        Class::LinkLocal | Class::Metadata | Class::NotUnicast => false,
    };
    if allowed {
        return Ok(());
    }
    Err(match class {
        Class::Loopback => "baseUrl must not point at a loopback address in production",
        Class::Private => "baseUrl must not point at a private network address in production",
        Class::LinkLocal => "baseUrl must not point at a link-local address",
        Class::Metadata => "baseUrl must not point at a cloud metadata endpoint",
        Class::NotUnicast => "baseUrl must point at a unicast address",
        Class::Public => "baseUrl is not allowed",
    }
    .into())
}

/// Splits `host[:port]` / `[v6][:port]`, validates the port, returns the host.
fn split_port(authority: &str) -> Result<&str, String> {
    let (host, port) = if let Some(after) = authority.strip_prefix('[') {
        let close = after
            .find(']')
            .ok_or_else(|| "baseUrl has an unterminated IPv6 address".to_string())?;
        let tail = &after[close + 1..];
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p),
            None if tail.is_empty() => None,
            None => return Err("baseUrl has an invalid host".into()),
        };
        (&authority[..close + 2], port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65_535).contains(&p));
        if !valid {
            return Err("baseUrl has an invalid port".into());
        }
    }
    if host.is_empty() {
        return Err("baseUrl has no host".into());
    }
    Ok(host)
}

fn classify_host(host: &str) -> Result<Class, String> {
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        // A zone id (`fe80::1%25eth0`) only makes sense for scoped addresses,
        // but the address before it decides the class either way.
        let addr = inner.split('%').next().unwrap_or("");
        return parse_ipv6(addr)
            .map(classify_v6)
            .ok_or_else(|| "baseUrl has an invalid IPv6 address".to_string());
    }
    if !host.is_ascii() {
        return Err("baseUrl host must be ASCII (use punycode for international names)".into());
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
    {
        return Err("baseUrl has an invalid host".into());
    }
    let lower = host.to_ascii_lowercase();
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    if name.is_empty() || name.split('.').any(str::is_empty) {
        return Err("baseUrl has an invalid host".into());
    }
    if ends_in_number(name) {
        return parse_ipv4(name)
            .map(classify_v4)
            .ok_or_else(|| "baseUrl has an invalid IPv4 address".to_string());
    }
    Ok(classify_name(name))
}

fn classify_name(name: &str) -> Class {
    const METADATA: [&str; 5] = [
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    ];
    if METADATA.contains(&name) {
        return Class::Metadata;
    }
    if name == "localhost" || name.ends_with(".localhost") || name == "localhost.localdomain" {
        return Class::Loopback;
    }
    Class::Public
}

/// WHATWG's "ends in a number": the last label is all digits or `0x…` hex,
/// so the whole host must parse as IPv4.
fn ends_in_number(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or("");
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    last.strip_prefix("0x")
        .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// One IPv4 part: decimal, `0x` hex (empty means 0) or leading-zero octal.
fn parse_ipv4_part(part: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = part.strip_prefix("0x") {
        (h, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return (radix == 16).then_some(0);
    }
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = u64::from(c.to_digit(radix)?);
        value = value.checked_mul(radix.into())?.checked_add(d)?;
        if value > u64::from(u32::MAX) {
            return None;
        }
    }
    Some(value)
}

/// IPv4 the way browsers and `inet_aton` read it: 1 to 4 parts, every part
/// but the last at most 255, the last filling the remaining bytes.
fn parse_ipv4(name: &str) -> Option<u32> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for p in &parts {
        numbers.push(parse_ipv4_part(p)?);
    }
    let (last, init) = numbers.split_last()?;
    let mut addr: u64 = 0;
    for (i, n) in init.iter().enumerate() {
        if *n > 255 {
            return None;
        }
        addr |= n << (8 * (3 - i));
    }
    let room = 8 * (4 - init.len() as u32);
    if room < 32 && *last >= (1u64 << room) {
        return None;
    }
    u32::try_from(addr | last).ok()
}

fn classify_v4(a: u32) -> Class {
    let [o1, o2, o3, o4] = a.to_be_bytes();
    let in_net = |net: u32, bits: u32| (a ^ net) >> (32 - bits) == 0;
    if a == 0xA9FE_A9FE || (o1, o2, o3, o4) == (100, 100, 100, 200) {
        // 169.254.169.254 (AWS, GCP, Azure, …), 100.100.100.200 (Alibaba).
        return Class::Metadata;
    }
    if o1 == 127 {
        return Class::Loopback;
    }
    if in_net(0xA9FE_0000, 16) {
        return Class::LinkLocal;
    }
    if o1 >= 224 {
        return Class::NotUnicast;
    }
    let private = o1 == 0
        || o1 == 10
        || in_net(0xAC10_0000, 12)
        || in_net(0xC0A8_0000, 16)
        || in_net(0x6440_0000, 10)
        || in_net(0xC000_0000, 24)
        || in_net(0xC612_0000, 15);
    if private {
        Class::Private
    } else {
        Class::Public
    }
}

/// Parses an IPv6 address (no brackets, no zone) into its 128 bits.
fn parse_ipv6(s: &str) -> Option<u128> {
    if s.is_empty() || s.len() > 45 {
        return None;
    }
    let (head, tail, compressed) = match s.find("::") {
        Some(i) => (&s[..i], &s[i + 2..], true),
        None => (s, "", false),
    };
    if tail.contains("::") {
        return None;
    }
    let groups = |part: &str, allow_v4: bool| -> Option<Vec<u16>> {
        let mut out = Vec::new();
        if part.is_empty() {
            return Some(out);
        }
        let pieces: Vec<&str> = part.split(':').collect();
        for (i, piece) in pieces.iter().enumerate() {
            let last = i + 1 == pieces.len();
            if last && allow_v4 && piece.contains('.') {
                let v4 = parse_dotted_quad(piece)?;
                out.push((v4 >> 16) as u16);
                out.push((v4 & 0xFFFF) as u16);
            } else {
                if piece.is_empty()
                    || piece.len() > 4
                    || !piece.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return None;
                }
                out.push(u16::from_str_radix(piece, 16).ok()?);
            }
        }
        Some(out)
    };
    let mut words = groups(head, !compressed)?;
    if compressed {
        let back = groups(tail, true)?;
        if words.len() + back.len() > 7 {
            return None;
        }
        words.resize(8 - back.len(), 0);
        words.extend(back);
    }
    if words.len() != 8 {
        return None;
    }
    Some(
        words
            .iter()
            .fold(0u128, |acc, w| (acc << 16) | u128::from(*w)),
    )
}

/// Strict dotted-quad (inside IPv6): four decimal parts 0–255, no leading zeros.
fn parse_dotted_quad(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut addr = 0u32;
    for p in parts {
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        if !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = p.parse().ok()?;
        if n > 255 {
            return None;
        }
        addr = (addr << 8) | n;
    }
    Some(addr)
}

fn classify_v6(a: u128) -> Class {
    let prefix = |net: u128, bits: u32| (a ^ net) >> (128 - bits) == 0;
    let low32 = (a & 0xFFFF_FFFF) as u32;
    if a == 0 {
        return Class::Private; // `::` reaches the host itself, like 0.0.0.0
    }
    if a == 1 {
        return Class::Loopback;
    }
    if a == 0xFD00_0EC2_0000_0000_0000_0000_0000_0254 {
        return Class::Metadata; // AWS IMDS over IPv6
    }
    // IPv4-compatible (::a.b.c.d), IPv4-mapped (::ffff:a.b.c.d),
    // IPv4-translated (::ffff:0:a.b.c.d), NAT64 well-known prefix.
    if a >> 32 == 0
        || a >> 32 == 0xFFFF
        || a >> 32 == 0xFFFF_0000
        || prefix(0x0064_FF9B_0000_0000_0000_0000_0000_0000, 96)
    {
        return classify_v4(low32);
    }
    if prefix(0x0064_FF9B_0001_0000_0000_0000_0000_0000, 48) {
        return Class::Private; // local-use NAT64
    }
    if prefix(0x2002_0000_0000_0000_0000_0000_0000_0000, 16) {
        return classify_v4(((a >> 80) & 0xFFFF_FFFF) as u32); // 6to4
    }
    if prefix(0xFE80_0000_0000_0000_0000_0000_0000_0000, 10) {
        return Class::LinkLocal;
    }
    if prefix(0xFC00_0000_0000_0000_0000_0000_0000_0000, 7)
        || prefix(0xFEC0_0000_0000_0000_0000_0000_0000_0000, 10)
    {
        return Class::Private; // unique-local, deprecated site-local
    }
    if prefix(0xFF00_0000_0000_0000_0000_0000_0000_0000, 8) {
        return Class::NotUnicast;
    }
    Class::Public
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROD: bool = true;
    const DEV: bool = false;

    fn ok(url: &str, production: bool) -> bool {
        check_base_url(url, production).is_ok()
    }

    #[test]
    fn provider_defaults_are_accepted_in_production() {
        for url in [
            "https://api.openai.com/v1",
            "https://api.anthropic.com/v1",
            "https://generativelanguage.googleapis.com/v1beta",
            "https://api.x.ai/v1",
            "https://api.openai.com/v1/chat/completions",
            "https://example.com:8443/openai/v1?x=1#frag",
            "HTTPS://API.EXAMPLE.COM/V1",
            "https://example.com.",
            "https://8.8.8.8/v1",
            "https://[2606:4700:4700::1111]/v1",
            "https://[2606:4700:4700::1111]:443/v1",
            "https://1.1.1.1",
            "https://my_host.example.com/v1",
            "https://localhost.example.com/v1",
            "https://example.com/a@b",
        ] {
            assert!(ok(url, PROD), "{url} should be accepted");
        }
    }

    #[test]
    fn malformed_urls_are_rejected_everywhere() {
        for url in [
            "",
            "api.openai.com/v1",
            "//api.openai.com",
            "ftp://example.com",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "gopher://example.com",
            "https://",
            "https:///v1",
            "https://:443/v1",
            "https://exa mple.com",
            " https://example.com",
            "https://example.com/\n",
            "https://example.com\t/v1",
            "https://exa\u{0}mple.com",
            "https://example.com\\@127.0.0.1",
            "https://example.com:0/v1",
            "https://example.com:65536/v1",
            "https://example.com:99999999/v1",
            "https://example.com:/v1",
            "https://example.com:80a/v1",
            "https://example.com:-1/",
            "https://exa..mple.com",
            "https://.example.com",
            "https://example.com..",
            "https://%31%32%37.0.0.1/",
            "https://ex%61mple.com/",
            "https://ex\u{e4}mple.com/",
            "https://127\u{3002}0\u{3002}0\u{3002}1/",
            "https://[::1/",
            "https://[::1]x/",
            "https://[::1]:/",
            "https://[not-v6]/",
            "https://[1:2:3:4:5:6:7:8:9]/",
            "https://[1::2::3]/",
            "https://[12345::]/",
            "https://256.0.0.1/",
            "https://1.2.3.4.5/",
            "https://1.2.3.256/",
            "https://1.2.65536/",
            "https://4294967296/",
            "https://09.0.0.1/",
            "https://0x100.0.0.1/",
            "https://a:b:c/",
        ] {
            assert!(!ok(url, PROD), "{url:?} should be rejected in production");
            assert!(!ok(url, DEV), "{url:?} should be rejected in development");
        }
        assert!(check_base_url(&format!("https://a.com/{}", "x".repeat(3000)), DEV).is_err());
    }

    #[test]
    fn credentials_are_rejected_with_a_clear_message() {
        for url in [
            "https://user:pass@api.openai.com/v1",
            "https://user@api.openai.com/v1",
            "https://@api.openai.com/v1",
            "https://api.openai.com@127.0.0.1/v1",
            "http://evil@localhost:8080/",
        ] {
            let err = check_base_url(url, DEV).err().unwrap_or_default();
            assert!(err.contains("credentials"), "{url}: {err}");
        }
    }

    #[test]
    fn production_requires_https_and_development_allows_http() {
        let err = check_base_url("http://api.openai.com/v1", PROD).err();
        assert!(err.unwrap_or_default().contains("https"));
        assert!(ok("http://api.openai.com/v1", DEV));
        assert!(ok("HTTP://localhost:11434/v1", DEV));
    }

    #[test]
    fn loopback_and_private_addresses_are_rejected_in_production_only() {
        for url in [
            "http://localhost:11434/v1",
            "http://LOCALHOST/v1",
            "http://localhost./v1",
            "http://api.localhost/v1",
            "http://a.b.localhost./v1",
            "http://localhost.localdomain/",
            "http://127.0.0.1/",
            "http://127.255.255.254:8080/",
            "http://127.1/",
            "http://127.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0X7F000001/",
            "http://0x7f.0.0.1/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://0177.1/",
            "http://017700000001/",
            "http://127.0.0.1./",
            "http://0/",
            "http://0.0.0.0/",
            "http://0x0/",
            "http://10.0.0.1/",
            "http://10.1/",
            "http://167772161/",
            "http://012.0.0.1/",
            "http://172.16.0.1/",
            "http://172.31.255.255/",
            "http://192.168.1.1/",
            "http://192.168.257/",
            "http://100.64.0.1/",
            "http://100.127.255.255/",
            "http://[::1]/",
            "http://[::1]:8080/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::FFFF:7F00:0001]/",
            "http://[::ffff:10.0.0.1]/",
            "http://[::127.0.0.1]/",
            "http://[::ffff:0:127.0.0.1]/",
            "http://[64:ff9b::127.0.0.1]/",
            "http://[64:ff9b::a00:1]/",
            "http://[64:ff9b:1::1]/",
            "http://[2002:7f00:1::]/",
            "http://[2002:c0a8:101::1]/",
            "http://[fc00::1]/",
            "http://[fd12:3456::1]/",
            "http://[fec0::1]/",
        ] {
            let https = url.replacen("http://", "https://", 1);
            assert!(
                !ok(&https, PROD),
                "{https} should be rejected in production"
            );
            assert!(ok(url, DEV), "{url} should be accepted in development");
        }
    }

    #[test]
    fn link_local_metadata_and_multicast_are_rejected_everywhere() {
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.169.254./",
            "http://2852039166/",
            "http://0xa9fea9fe/",
            "http://0xa9.0xfe.0xa9.0xfe/",
            "http://0251.0376.0251.0376/",
            "http://169.254.43518/",
            "http://169.254.0.1/",
            "http://169.254.170.2/v2/credentials",
            "http://100.100.100.200/",
            "http://metadata/",
            "http://METADATA./computeMetadata/v1/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://metadata.google.internal./",
            "http://metadata.goog/",
            "http://instance-data/",
            "http://[fd00:ec2::254]/",
            "http://[fe80::1]/",
            "http://[fe80::1%25eth0]/",
            "http://[fe80::1%eth0]:8080/",
            "http://[febf::1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[64:ff9b::169.254.169.254]/",
            "http://[2002:a9fe:a9fe::]/",
            "http://224.0.0.1/",
            "http://239.255.255.250/",
            "http://255.255.255.255/",
            "http://240.0.0.1/",
            "http://[ff02::1]/",
        ] {
            let https = url.replacen("http://", "https://", 1);
            assert!(
                !ok(&https, PROD),
                "{https} should be rejected in production"
            );
            assert!(!ok(url, DEV), "{url} should be rejected in development");
        }
    }

    #[test]
    fn public_addresses_in_every_spelling_are_accepted() {
        for url in [
            "https://8.8.8.8/",
            "https://134744072/",
            "https://0x8080808/",
            "https://010.010.010.010/",
            "https://8.8.2056/",
            "https://172.15.255.255/",
            "https://172.32.0.0/",
            "https://100.63.255.255/",
            "https://100.128.0.0/",
            "https://169.253.0.1/",
            "https://[2001:4860:4860::8888]/",
            "https://[::ffff:8.8.8.8]/",
            "https://[64:ff9b::8.8.8.8]/",
            "https://[2002:808:808::]/",
        ] {
            assert!(ok(url, PROD), "{url} should be accepted");
        }
    }

    #[test]
    fn messages_name_the_reason() {
        let msg = |u: &str, p: bool| check_base_url(u, p).err().unwrap_or_default();
        assert!(msg("https://127.0.0.1/", PROD).contains("loopback"));
        assert!(msg("https://10.0.0.1/", PROD).contains("private"));
        assert!(msg("http://169.254.1.1/", DEV).contains("link-local"));
        assert!(msg("http://169.254.169.254/", DEV).contains("metadata"));
    }

    #[test]
    fn only_development_is_not_production() {
        assert!(!is_production("development"));
        assert!(is_production("production"));
        assert!(is_production("staging"));
        assert!(is_production(""));
        assert!(is_production("Development"));
    }

    #[test]
    fn ipv6_parser_handles_compression_and_embedded_ipv4() {
        assert_eq!(parse_ipv6("::"), Some(0));
        assert_eq!(parse_ipv6("::1"), Some(1));
        assert_eq!(parse_ipv6("1::"), Some(1u128 << 112));
        assert_eq!(parse_ipv6("::ffff:1.2.3.4"), Some(0xFFFF_0102_0304));
        assert_eq!(parse_ipv6("1:2:3:4:5:6:7:8"), parse_ipv6("1:2:3:4:5:6:7:8"));
        assert!(parse_ipv6("1:2:3:4:5:6:7::").is_some());
        assert!(parse_ipv6("1:2:3:4:5:6:1.2.3.4").is_some());
        assert!(parse_ipv6("1:2:3:4:5:6:7:1.2.3.4").is_none());
        assert!(parse_ipv6(":1").is_none());
        assert!(parse_ipv6("1:").is_none());
        assert!(parse_ipv6(":::").is_none());
        assert!(parse_ipv6("::1.2.3.04").is_none());
        assert!(parse_ipv6("::1.2.3.4:1").is_none());
        assert!(parse_ipv6("::+1").is_none());
        assert!(ok("https://0xg.example/", PROD));
    }
}
