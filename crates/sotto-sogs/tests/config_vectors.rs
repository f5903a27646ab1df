//! `sogs.ini` parsing: PySOGS's defaults, overrides, bad values, unknown keys.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use sotto_sogs::config::Config;
use sotto_sogs::Error;

#[test]
fn defaults_match_pysogs() {
    let c = Config::from_ini_str("").unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.db_url, "sqlite:///sogs.db");
    assert_eq!(c.key_file.to_str(), Some("key_x25519"));
    assert_eq!(c.base_url, "http://example.net");
    assert_eq!(c.omq_listen, vec!["tcp://*:22028".to_owned()]);
    assert_eq!(c.omq_internal, "ipc://./omq.sock");
    assert!(c.http_show_index && c.http_show_recent);
    assert_eq!(c.http_listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.file_expiry, Some(15.0 * 86400.0));
    assert_eq!(c.file_max_size, 10_000_000);
    assert_eq!(c.uploads_dir.to_str(), Some("uploads"));
    assert_eq!(c.active_threshold, 7.0 * 86400.0);
    assert_eq!(c.active_prune_threshold, 60.0 * 86400.0);
    assert_eq!(c.dm_expiry, 15.0 * 86400.0);
    assert!(c.require_blind_keys);
    assert_eq!(c.history_prune_threshold, 30.0 * 86400.0);
    assert!(!c.profanity_filter && c.profanity_silent && c.alphabet_silent && !c.filter_mods);
    assert!(c.alphabet_filters.is_empty() && c.profanity_custom.is_none());
    assert_eq!(c.log_level, "WARNING");
    assert!(!c.testing);
    assert_eq!(c.sqlite_path().unwrap().to_str(), Some("sogs.db"));
}

#[test]
fn overrides() {
    let dir = tempfile::tempdir().unwrap();
    let uploads = dir.path().display();
    let ini = format!(
        "# comment\n; another\n[db]\nurl = sqlite:////var/lib/sogs/sogs.db\n\
         [crypto]\nKEY_FILE = /etc/sogs/key\n\
         [net]\nbase_url = https://sogs.example.org\nomq_listen = tcp://*:22028\n    ipc://./x.sock\n\
         http_show_index = No\nhttp_show_recent = off\nhttp_listen = [::1]:9000\n\
         [files]\nexpiry = 0\nmax_size = 6000000\nuploads_dir = {uploads}\n\
         [rooms]\nactive_threshold = 1.5\nactive_prune_threshold = 90\n\
         [direct_messages]\nexpiry = 2\n[users]\nrequire_blind_keys = 0\n\
         [messages]\nhistory_prune_threshold = 10\nprofanity_filter = yes\nprofanity_silent = false\n\
         alphabet_filters = arabic, cyrillic persian\nalphabet_silent = no\nfilter_mods = TRUE\n\
         [log]\nlevel = debug\n[testing]\nenabled = on\n\
         [room:lobby]\nprofanity_filter = no\nalphabet_filters = cyrillic\n\
         [filter:*:profanity]\nprofile_name = Bot\npublic = yes\nreply = no \\p!\n    second \\r\n"
    );
    let c = Config::from_ini_str(&ini).unwrap();
    assert_eq!(
        c.sqlite_path().unwrap().to_str(),
        Some("/var/lib/sogs/sogs.db")
    );
    assert_eq!(c.key_file.to_str(), Some("/etc/sogs/key"));
    assert_eq!(c.base_url, "https://sogs.example.org");
    assert_eq!(
        c.omq_listen,
        vec!["tcp://*:22028".to_owned(), "ipc://./x.sock".to_owned()]
    );
    assert!(!c.http_show_index && !c.http_show_recent);
    assert_eq!(c.http_listen.to_string(), "[::1]:9000");
    assert_eq!(c.file_expiry, None, "0 days = never");
    assert_eq!(c.file_max_size, 6_000_000);
    assert_eq!(c.uploads_dir, dir.path());
    assert_eq!(c.active_threshold, 1.5 * 86400.0);
    assert_eq!(c.active_prune_threshold, 90.0 * 86400.0);
    assert_eq!(c.dm_expiry, 2.0 * 86400.0);
    assert!(!c.require_blind_keys);
    assert_eq!(c.history_prune_threshold, 10.0 * 86400.0);
    assert!(c.profanity_filter && !c.profanity_silent && !c.alphabet_silent && c.filter_mods);
    let alphabets: Vec<&str> = c.alphabet_filters.iter().map(String::as_str).collect();
    assert_eq!(alphabets, ["arabic", "cyrillic", "persian"]);
    assert_eq!(c.log_level, "DEBUG");
    assert!(c.testing);
    let room = &c.room_overrides["lobby"];
    assert_eq!(room.profanity_filter, Some(false));
    assert_eq!(room.alphabet_filters.as_ref().map(|s| s.len()), Some(1));
    let filter = &c.filters[&("*".to_owned(), "profanity".to_owned())];
    assert_eq!(filter.profile_name.as_deref(), Some("Bot"));
    assert_eq!(filter.public, Some(true));
    assert_eq!(
        filter.reply.as_deref(),
        Some(&["no \\p!".to_owned(), "second \\r".to_owned()][..])
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(
        c.join_url("lobby", "ab12"),
        "https://sogs.example.org/lobby?public_key=ab12"
    );
}

#[test]
fn inline_hash_is_part_of_the_value() {
    // Python's configparser has no inline comments by default.
    let c = Config::from_ini_str("[crypto]\nkey_file = key#1 ; x\n").unwrap();
    assert_eq!(c.key_file.to_str(), Some("key#1 ; x"));
}

#[test]
fn unknown_keys_and_sections_warn() {
    let c = Config::from_ini_str(
        "[net]\nbase_url = http://a.b\nbogus = 1\n[nonsense]\nx = y\n[empty]\n[room:r]\nwhat = 1\n",
    )
    .unwrap();
    assert_eq!(c.base_url, "http://a.b");
    assert_eq!(c.warnings.len(), 4, "{:?}", c.warnings);
    assert!(c.warnings.iter().any(|w| w.contains("[net] bogus")));
    assert!(c.warnings.iter().any(|w| w.contains("[nonsense]")));
    assert!(c.warnings.iter().any(|w| w.contains("[empty]")));
    assert!(c.warnings.iter().any(|w| w.contains("[room:r] what")));
}

fn bad(ini: &str, section: &str, key: &str) {
    match Config::from_ini_str(ini) {
        Err(Error::ConfigValue {
            section: s, key: k, ..
        }) => {
            assert_eq!((s.as_str(), k.as_str()), (section, key), "{ini}");
        }
        other => panic!("{ini}: {other:?}"),
    }
}

#[test]
fn bad_values_name_section_and_key() {
    bad("[net]\nhttp_show_index = maybe\n", "net", "http_show_index");
    bad("[net]\nbase_url = example.net\n", "net", "base_url");
    bad("[net]\nbase_url = ftp://example.net\n", "net", "base_url");
    bad(
        "[net]\nomq_listen = tcp://*:1\n  udp://x\n",
        "net",
        "omq_listen",
    );
    bad("[net]\nhttp_listen = localhost\n", "net", "http_listen");
    bad("[db]\nurl = mysql://x\n", "db", "url");
    bad("[files]\nmax_size = 10MB\n", "files", "max_size");
    bad("[files]\nexpiry = -1\n", "files", "expiry");
    bad(
        "[files]\nuploads_dir = /does/not/exist/anywhere\n",
        "files",
        "uploads_dir",
    );
    bad(
        "[rooms]\nactive_threshold = week\n",
        "rooms",
        "active_threshold",
    );
    bad(
        "[users]\nrequire_blind_keys = 2\n",
        "users",
        "require_blind_keys",
    );
    bad("[log]\nlevel = LOUD\n", "log", "level");
    bad(
        "[room:x]\nprofanity_filter = sure\n",
        "room:x",
        "profanity_filter",
    );
    bad("[filter:x:y]\npublic = perhaps\n", "filter:x:y", "public");
    let err = Config::from_ini_str("[error\n").unwrap_err();
    let message = err.to_string();
    assert!(message.contains("bracket"), "{message}");
}

#[test]
fn bad_filter_section() {
    let err = Config::from_ini_str("[filter:onlyone]\nreply = x\n").unwrap_err();
    assert!(matches!(err, Error::FilterSection(_)), "{err}");
}

#[test]
fn postgres_is_parsed_but_not_usable() {
    let c = Config::from_ini_str("[db]\nurl = postgresql://u@h/db\n").unwrap();
    assert!(matches!(c.sqlite_path(), Err(Error::UnsupportedDb(_))));
}

#[test]
fn file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sogs.ini");
    assert!(matches!(
        Config::from_file(&path),
        Err(Error::ConfigRead { .. })
    ));
    std::fs::write(&path, "[net]\nbase_url = https://x.y\n").unwrap();
    assert_eq!(Config::from_file(&path).unwrap().base_url, "https://x.y");
}

#[test]
fn db_synchronous_full_or_normal() {
    assert!(!Config::default().db_sync_full);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sogs.db");
    let level = |ini: &str| {
        let c = Config::from_ini_str(&format!("[db]\nurl = sqlite:///{}\n{ini}", db.display()))
            .unwrap();
        let store = sotto_sogs::store::Store::open_url(&c).unwrap();
        let conn = store.connection().unwrap();
        conn.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    // SQLite's numbers: 1 = NORMAL, 2 = FULL.
    assert_eq!(level(""), 1);
    assert_eq!(level("synchronous = normal\n"), 1);
    assert_eq!(level("synchronous = FULL\n"), 2);
    bad("[db]\nsynchronous = off\n", "db", "synchronous");
}
