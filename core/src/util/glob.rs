//! Glob matching identical to Redis' `stringmatchlen` (KEYS, SCAN MATCH, CONFIG GET,
//! PSUBSCRIBE): `*`, `?`, `[...]` classes with ranges, `^` negation and `\` escapes.

/// Whether `string` matches `pattern`; `nocase` folds ASCII case as Redis' `tolower`.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn lower(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

/// A direct port of `stringmatchlen_impl`: bytes beyond the pattern read as NUL, as
/// the C code reads the terminator of its sds pattern.
fn match_impl(
    pattern: &[u8],
    string: &[u8],
    nocase: bool,
    skip_longer: &mut bool,
    nesting: u32,
) -> bool {
    if nesting > 1000 {
        return false;
    }
    let at = |i: usize| pattern.get(i).copied().unwrap_or(0);
    let (mut p, mut s) = (0usize, 0usize);
    while p < pattern.len() && s < string.len() {
        match pattern[p] {
            b'*' => {
                while p < pattern.len() && at(p + 1) == b'*' {
                    p += 1;
                }
                if pattern.len() - p == 1 {
                    return true;
                }
                while s < string.len() {
                    if match_impl(
                        &pattern[p + 1..],
                        &string[s..],
                        nocase,
                        skip_longer,
                        nesting + 1,
                    ) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => s += 1,
            b'[' => {
                p += 1;
                let not = at(p) == b'^';
                if not {
                    p += 1;
                }
                let c = string[s];
                let mut matched = false;
                loop {
                    let remaining = pattern.len().saturating_sub(p);
                    if at(p) == b'\\' && remaining >= 2 {
                        p += 1;
                        if at(p) == c {
                            matched = true;
                        }
                    } else if at(p) == b']' {
                        break;
                    } else if remaining == 0 {
                        p -= 1;
                        break;
                    } else if remaining >= 3 && at(p + 1) == b'-' {
                        let (mut start, mut end) = (at(p), at(p + 2));
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let (start, end, ch) =
                            (lower(start, nocase), lower(end, nocase), lower(c, nocase));
                        p += 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if lower(at(p), nocase) == lower(c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                s += 1;
            }
            other => {
                let mut pc = other;
                if other == b'\\' && pattern.len() - p >= 2 {
                    p += 1;
                    pc = pattern[p];
                }
                if lower(pc, nocase) != lower(string[s], nocase) {
                    return false;
                }
                s += 1;
            }
        }
        p += 1;
        if s == string.len() {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pattern.len() && s == string.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        // As in Redis, "*" does not match an empty string; KEYS and SCAN special-case "*".
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hallo"));
        assert!(m("key:*", "key:1"));
        assert!(!m("key:?", "key:12"));
        assert!(!m("", "a"));
        assert!(m("", ""));
        assert!(m("a**", "a"));
        assert!(m("[\\]]", "]"));
        assert!(m("[a", "a"));
        assert!(!m("?", ""));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"MAX*", b"maxmemory", true));
        assert!(glob_match(b"[A-Z]x", b"qX", true));
        assert!(!glob_match(b"MAX*", b"maxmemory", false));
    }

    #[test]
    fn abusive_patterns_terminate() {
        let p = "a*".repeat(50) + "b";
        let s = "a".repeat(60);
        assert!(!m(&p, &s));
    }
}
