//! Command help built from the server's `COMMAND DOCS`: the `HELP` command's output,
//! the grey argument hints shown while typing and tab completion of command names,
//! all as redis-cli 7.0 does them.

use ferrokv_protocol::{split_args, Frame};

/// One command or subcommand the server documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpEntry {
    /// Upper-case name words, e.g. `["CONFIG", "GET"]`.
    pub words: Vec<String>,
    /// The arguments after the name, e.g. `key value [NX|XX]`.
    pub params: String,
    /// One-line description.
    pub summary: String,
    /// First version with the command.
    pub since: String,
    /// Command group, e.g. `string`.
    pub group: String,
}

impl HelpEntry {
    /// The full name, e.g. `CONFIG GET`.
    pub fn full(&self) -> String {
        self.words.join(" ")
    }
}

/// Every documented command, sorted by full name as redis-cli lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelpTable {
    entries: Vec<HelpEntry>,
    groups: Vec<String>,
}

/// Text of a string-like frame.
fn text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Verbatim { text: b, .. } => {
            Some(String::from_utf8_lossy(b).into_owned())
        }
        _ => None,
    }
}

/// Key/value pairs of a map, or of a flat array (the RESP2 form of a map).
fn pairs(frame: &Frame) -> Vec<(&Frame, &Frame)> {
    match frame {
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        Frame::Array(items) => items.chunks_exact(2).map(|c| (&c[0], &c[1])).collect(),
        _ => Vec::new(),
    }
}

/// The value stored under `key` in a doc map.
fn field<'a>(doc: &'a Frame, key: &str) -> Option<&'a Frame> {
    pairs(doc)
        .into_iter()
        .find(|(k, _)| text(k).is_some_and(|k| k.eq_ignore_ascii_case(key)))
        .map(|(_, v)| v)
}

fn field_text(doc: &Frame, key: &str) -> String {
    field(doc, key).and_then(text).unwrap_or_default()
}

/// Items of an array or set.
fn items(frame: &Frame) -> &[Frame] {
    match frame {
        Frame::Array(items) | Frame::Set(items) => items,
        _ => &[],
    }
}

/// Builds the usage text of one `COMMAND DOCS` argument, as Redis' help generator does:
/// tokens before their value, `|` between alternatives, `[...]` around optional parts
/// and `x [x ...]` for repeatable ones.
fn format_argument(arg: &Frame) -> String {
    let kind = field_text(arg, "type");
    let token = field(arg, "token").and_then(text);
    let flags: Vec<String> = field(arg, "flags")
        .map(|f| items(f).iter().filter_map(text).collect())
        .unwrap_or_default();
    let has = |flag: &str| flags.iter().any(|f| f.eq_ignore_ascii_case(flag));
    let children = || -> Vec<String> {
        field(arg, "arguments")
            .map(|a| items(a).iter().map(format_argument).collect())
            .unwrap_or_default()
    };
    let mut body = match kind.as_str() {
        "pure-token" => token.clone().unwrap_or_default(),
        "oneof" => children().join("|"),
        "block" => children().join(" "),
        _ => field(arg, "display_text")
            .and_then(text)
            .unwrap_or_else(|| field_text(arg, "name")),
    };
    if kind != "pure-token" {
        if let Some(token) = &token {
            body = format!("{token} {body}");
        }
    }
    if has("multiple") {
        body = format!("{body} [{body} ...]");
    }
    if has("optional") {
        body = format!("[{body}]");
    }
    body
}

/// The parameters of a documented command: its `syntax` field without the command
/// name if the server sends one, else built from its `arguments`.
fn params(doc: &Frame, words: &[String]) -> String {
    if let Some(syntax) = field(doc, "syntax").and_then(text) {
        let mut rest = syntax.trim();
        for word in words {
            let trimmed = rest.trim_start();
            match trimmed.get(..word.len()) {
                Some(head)
                    if head.eq_ignore_ascii_case(word)
                        && !matches!(trimmed[word.len()..].chars().next(),
                            Some(c) if !c.is_whitespace()) =>
                {
                    rest = &trimmed[word.len()..];
                }
                _ => return rest.trim().to_string(),
            }
        }
        return rest.trim().to_string();
    }
    field(doc, "arguments")
        .map(|args| {
            items(args)
                .iter()
                .map(format_argument)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

impl HelpTable {
    /// Builds the table from a `COMMAND DOCS` reply (RESP3 map or RESP2 flat array).
    pub fn from_command_docs(reply: &Frame) -> HelpTable {
        let mut entries = Vec::new();
        for (name, doc) in pairs(reply) {
            if let Some(name) = text(name) {
                add_entry(&mut entries, &name, doc);
            }
        }
        entries.sort_by_key(HelpEntry::full);
        entries.dedup_by(|a, b| a.words == b.words);
        let mut groups: Vec<String> = entries
            .iter()
            .map(|e| e.group.clone())
            .filter(|g| !g.is_empty())
            .collect();
        groups.sort();
        groups.dedup();
        HelpTable { entries, groups }
    }

    /// Whether nothing is documented (no server yet, or one without `COMMAND DOCS`).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The documented commands, sorted by full name.
    #[cfg(test)]
    pub fn entries(&self) -> &[HelpEntry] {
        &self.entries
    }

    /// The grey hint shown after `line` (redis-cli's `hintsCallback`): the parameters
    /// of the longest command name the line starts with, less the arguments already
    /// typed, with a leading space unless the line ends with one.
    pub fn hint(&self, line: &str) -> Option<String> {
        let argv = split_args(line.as_bytes())?;
        if argv.is_empty() {
            return None;
        }
        let mut best: Option<&HelpEntry> = None;
        for entry in &self.entries {
            let n = entry.words.len();
            if n <= argv.len()
                && !matches!(best, Some(b) if n <= b.words.len())
                && entry
                    .words
                    .iter()
                    .zip(&argv)
                    .all(|(w, a)| w.as_bytes().eq_ignore_ascii_case(a))
            {
                best = Some(entry);
            }
        }
        let entry = best?;
        let mut hint = entry.params.as_str();
        let mut to_remove = argv.len() - entry.words.len();
        while to_remove > 0 && !hint.is_empty() {
            if hint.starts_with('[') {
                break;
            }
            if hint.starts_with(' ') {
                to_remove -= 1;
            }
            let mut chars = hint.chars();
            chars.next();
            hint = chars.as_str();
        }
        let end_space = line.ends_with(|c: char| c.is_ascii_whitespace());
        Some(if end_space {
            hint.to_string()
        } else {
            format!(" {hint}")
        })
    }

    /// Tab completions for `line` (redis-cli's `completionCallback`): full command
    /// names the line is a prefix of, or after `help ` also `@group` names. Returns the
    /// byte offset the candidates replace from.
    pub fn complete(&self, line: &str) -> (usize, Vec<String>) {
        let (start, with_groups) = match line.get(..5) {
            Some(head) if head.eq_ignore_ascii_case("help ") => {
                let rest = &line[5..];
                (line.len() - rest.trim_start().len(), true)
            }
            _ => (0, false),
        };
        let typed = &line[start..];
        let prefix_of = |candidate: &str| {
            candidate
                .get(..typed.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(typed))
        };
        let mut out: Vec<String> = Vec::new();
        if with_groups {
            out.extend(
                self.groups
                    .iter()
                    .map(|g| format!("@{g}"))
                    .filter(|g| prefix_of(g)),
            );
        }
        out.extend(
            self.entries
                .iter()
                .map(HelpEntry::full)
                .filter(|full| prefix_of(full)),
        );
        (start, out)
    }

    /// What `HELP args...` prints (redis-cli's `cliOutputHelp`): the generic help with
    /// no arguments, every command of a group for `@group`, else every command whose
    /// name starts with the given words.
    pub fn help_output(&self, args: &[Vec<u8>]) -> String {
        if args.is_empty() {
            return generic_help();
        }
        let group = args[0]
            .strip_prefix(b"@")
            .map(|g| String::from_utf8_lossy(g).to_ascii_lowercase());
        let mut out = String::new();
        for entry in &self.entries {
            match &group {
                Some(group) => {
                    if entry.group.eq_ignore_ascii_case(group) {
                        command_help(&mut out, entry, false);
                    }
                }
                None => {
                    if args.len() <= entry.words.len()
                        && args
                            .iter()
                            .zip(&entry.words)
                            .all(|(a, w)| a.eq_ignore_ascii_case(w.as_bytes()))
                    {
                        command_help(&mut out, entry, true);
                    }
                }
            }
        }
        out.push_str("\r\n");
        out
    }
}

fn add_entry(entries: &mut Vec<HelpEntry>, name: &str, doc: &Frame) {
    let words: Vec<String> = name.split('|').map(str::to_ascii_uppercase).collect();
    entries.push(HelpEntry {
        params: params(doc, &words),
        summary: field_text(doc, "summary"),
        since: field_text(doc, "since"),
        group: field_text(doc, "group"),
        words,
    });
    if let Some(subs) = field(doc, "subcommands") {
        for (sub, sub_doc) in pairs(subs) {
            if let Some(sub) = text(sub) {
                add_entry(entries, &sub, sub_doc);
            }
        }
    }
}

/// One command's help block (redis-cli's `cliOutputCommandHelp`).
fn command_help(out: &mut String, entry: &HelpEntry, with_group: bool) {
    out.push_str(&format!(
        "\r\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\r\n",
        entry.full(),
        entry.params
    ));
    out.push_str(&format!("  \x1b[33msummary:\x1b[0m {}\r\n", entry.summary));
    out.push_str(&format!("  \x1b[33msince:\x1b[0m {}\r\n", entry.since));
    if with_group {
        out.push_str(&format!("  \x1b[33mgroup:\x1b[0m {}\r\n", entry.group));
    }
}

/// What a bare `HELP` prints.
pub fn generic_help() -> String {
    format!(
        "ferrokv-cli {}\n\
         To get help about commands type:\n      \
         \"help @<group>\" to get a list of commands in <group>\n      \
         \"help <command>\" for help on <command>\n      \
         \"help <tab>\" to get a list of possible help topics\n      \
         \"quit\" to exit\n\
         \n\
         To set ferrokv-cli preferences:\n      \
         \":set hints\" enable online hints\n      \
         \":set nohints\" disable online hints\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Frame {
        Frame::bulk(s)
    }

    fn map(pairs: Vec<(&str, Frame)>) -> Frame {
        Frame::Map(pairs.into_iter().map(|(k, v)| (b(k), v)).collect())
    }

    fn arg(pairs: Vec<(&str, Frame)>) -> Frame {
        map(pairs)
    }

    fn optional() -> Frame {
        Frame::Set(vec![Frame::simple("optional")])
    }

    /// `COMMAND DOCS` as Redis 7.0 sends it for SET (trimmed), GET and CONFIG GET/SET.
    fn redis_docs() -> Frame {
        let set_args = Frame::Array(vec![
            arg(vec![("name", b("key")), ("type", b("key"))]),
            arg(vec![("name", b("value")), ("type", b("string"))]),
            arg(vec![
                ("name", b("condition")),
                ("type", b("oneof")),
                ("flags", optional()),
                (
                    "arguments",
                    Frame::Array(vec![
                        arg(vec![
                            ("name", b("nx")),
                            ("type", b("pure-token")),
                            ("token", b("NX")),
                        ]),
                        arg(vec![
                            ("name", b("xx")),
                            ("type", b("pure-token")),
                            ("token", b("XX")),
                        ]),
                    ]),
                ),
            ]),
            arg(vec![
                ("name", b("get")),
                ("type", b("pure-token")),
                ("token", b("GET")),
                ("flags", optional()),
            ]),
            arg(vec![
                ("name", b("expiration")),
                ("type", b("oneof")),
                ("flags", optional()),
                (
                    "arguments",
                    Frame::Array(vec![
                        arg(vec![
                            ("name", b("seconds")),
                            ("type", b("integer")),
                            ("token", b("EX")),
                        ]),
                        arg(vec![
                            ("name", b("milliseconds")),
                            ("type", b("integer")),
                            ("token", b("PX")),
                        ]),
                        arg(vec![
                            ("name", b("keepttl")),
                            ("type", b("pure-token")),
                            ("token", b("KEEPTTL")),
                        ]),
                    ]),
                ),
            ]),
        ]);
        let multiple = Frame::Set(vec![Frame::simple("multiple")]);
        map(vec![
            (
                "set",
                map(vec![
                    ("summary", b("Set the string value of a key")),
                    ("since", b("1.0.0")),
                    ("group", b("string")),
                    ("arguments", set_args),
                ]),
            ),
            (
                "get",
                map(vec![
                    ("summary", b("Get the value of a key")),
                    ("since", b("1.0.0")),
                    ("group", b("string")),
                    (
                        "arguments",
                        Frame::Array(vec![arg(vec![("name", b("key")), ("type", b("key"))])]),
                    ),
                ]),
            ),
            (
                "config",
                map(vec![
                    (
                        "summary",
                        b("A container for server configuration commands"),
                    ),
                    ("since", b("2.0.0")),
                    ("group", b("server")),
                    (
                        "subcommands",
                        map(vec![
                            (
                                "config|set",
                                map(vec![
                                    ("summary", b("Set configuration parameters")),
                                    ("since", b("2.0.0")),
                                    ("group", b("server")),
                                    (
                                        "arguments",
                                        Frame::Array(vec![arg(vec![
                                            ("name", b("parameter_value")),
                                            ("type", b("block")),
                                            ("flags", multiple.clone()),
                                            (
                                                "arguments",
                                                Frame::Array(vec![
                                                    arg(vec![
                                                        ("name", b("parameter")),
                                                        ("type", b("string")),
                                                    ]),
                                                    arg(vec![
                                                        ("name", b("value")),
                                                        ("type", b("string")),
                                                    ]),
                                                ]),
                                            ),
                                        ])]),
                                    ),
                                ]),
                            ),
                            (
                                "config|get",
                                map(vec![
                                    ("summary", b("Get the values of configuration parameters")),
                                    ("since", b("2.0.0")),
                                    ("group", b("server")),
                                    (
                                        "arguments",
                                        Frame::Array(vec![arg(vec![
                                            ("name", b("parameter")),
                                            ("type", b("string")),
                                            ("flags", multiple),
                                        ])]),
                                    ),
                                ]),
                            ),
                        ]),
                    ),
                ]),
            ),
        ])
    }

    fn table() -> HelpTable {
        HelpTable::from_command_docs(&redis_docs())
    }

    #[test]
    fn builds_params_from_arguments() {
        let t = table();
        let names: Vec<String> = t.entries().iter().map(HelpEntry::full).collect();
        assert_eq!(names, ["CONFIG", "CONFIG GET", "CONFIG SET", "GET", "SET"]);
        let set = &t.entries()[4];
        assert_eq!(
            set.params,
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]"
        );
        assert_eq!(set.summary, "Set the string value of a key");
        assert_eq!(set.group, "string");
        assert_eq!(t.entries()[1].params, "parameter [parameter ...]");
        assert_eq!(
            t.entries()[2].params,
            "parameter value [parameter value ...]"
        );
        assert_eq!(t.entries()[0].params, "");
    }

    #[test]
    fn syntax_field_wins_and_loses_the_command_name() {
        let docs = map(vec![
            (
                "set",
                map(vec![
                    ("summary", b("Set")),
                    ("syntax", b("key value [NX|XX]")),
                ]),
            ),
            (
                "config|get",
                map(vec![("syntax", b("CONFIG GET parameter [parameter ...]"))]),
            ),
            ("getex", map(vec![("syntax", b("GETEX key"))])),
            ("get", map(vec![("syntax", b("getter"))])),
        ]);
        let t = HelpTable::from_command_docs(&docs);
        let params: Vec<(String, String)> = t
            .entries()
            .iter()
            .map(|e| (e.full(), e.params.clone()))
            .collect();
        assert_eq!(
            params,
            [
                (
                    "CONFIG GET".to_string(),
                    "parameter [parameter ...]".to_string()
                ),
                ("GET".to_string(), "getter".to_string()),
                ("GETEX".to_string(), "key".to_string()),
                ("SET".to_string(), "key value [NX|XX]".to_string()),
            ]
        );
    }

    #[test]
    fn resp2_flat_array_docs() {
        let docs = Frame::Array(vec![
            b("get"),
            Frame::Array(vec![
                b("summary"),
                b("Get the value of a key"),
                b("since"),
                b("1.0.0"),
                b("group"),
                b("string"),
                b("arguments"),
                Frame::Array(vec![Frame::Array(vec![
                    b("name"),
                    b("key"),
                    b("type"),
                    b("key"),
                ])]),
            ]),
        ]);
        let t = HelpTable::from_command_docs(&docs);
        assert_eq!(t.entries().len(), 1);
        assert_eq!(t.entries()[0].params, "key");
        assert_eq!(t.entries()[0].since, "1.0.0");
    }

    #[test]
    fn hints_like_redis_cli() {
        let t = table();
        let rest = "[NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]";
        assert_eq!(
            t.hint("set").as_deref(),
            Some(format!(" key value {rest}").as_str())
        );
        assert_eq!(
            t.hint("SET ").as_deref(),
            Some(format!("key value {rest}").as_str())
        );
        assert_eq!(
            t.hint("set foo ").as_deref(),
            Some(format!("value {rest}").as_str())
        );
        assert_eq!(
            t.hint("set foo").as_deref(),
            Some(format!(" value {rest}").as_str())
        );
        assert_eq!(t.hint("set foo bar ").as_deref(), Some(rest));
        assert_eq!(t.hint("set foo bar nx ").as_deref(), Some(rest));
        assert_eq!(
            t.hint("config get").as_deref(),
            Some(" parameter [parameter ...]")
        );
        assert_eq!(t.hint("config").as_deref(), Some(" "));
        assert_eq!(t.hint("config ").as_deref(), Some(""));
        assert_eq!(t.hint("nosuch x"), None);
        assert_eq!(t.hint(""), None);
        assert_eq!(t.hint("   "), None);
        assert_eq!(t.hint("set \"unbalanced"), None);
    }

    #[test]
    fn completion_of_names_and_groups() {
        let t = table();
        assert_eq!(t.complete("se"), (0, vec!["SET".to_string()]));
        assert_eq!(
            t.complete("config"),
            (
                0,
                vec![
                    "CONFIG".to_string(),
                    "CONFIG GET".to_string(),
                    "CONFIG SET".to_string()
                ]
            )
        );
        assert_eq!(
            t.complete("help  @s"),
            (6, vec!["@server".to_string(), "@string".to_string()])
        );
        assert_eq!(t.complete("help g"), (5, vec!["GET".to_string()]));
        assert_eq!(t.complete("zz").1, Vec::<String>::new());
    }

    #[test]
    fn help_output_matches_redis_cli() {
        let t = table();
        let out = t.help_output(&[b"set".to_vec()]);
        assert_eq!(
            out,
            "\r\n  \x1b[1mSET\x1b[0m \x1b[90mkey value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]\x1b[0m\r\n  \
             \x1b[33msummary:\x1b[0m Set the string value of a key\r\n  \
             \x1b[33msince:\x1b[0m 1.0.0\r\n  \
             \x1b[33mgroup:\x1b[0m string\r\n\r\n"
        );
        let config_get = t.help_output(&[b"CONFIG".to_vec(), b"get".to_vec()]);
        assert!(config_get.contains("\x1b[1mCONFIG GET\x1b[0m"));
        assert!(!config_get.contains("CONFIG SET"));
        let config = t.help_output(&[b"config".to_vec()]);
        assert_eq!(config.matches("\x1b[1mCONFIG").count(), 3);
        let group = t.help_output(&[b"@string".to_vec()]);
        assert!(group.contains("\x1b[1mGET\x1b[0m"));
        assert!(group.contains("\x1b[1mSET\x1b[0m"));
        assert!(!group.contains("group:"));
        assert_eq!(t.help_output(&[b"nosuch".to_vec()]), "\r\n");
        assert!(t.help_output(&[]).contains("\"help @<group>\""));
    }
}
