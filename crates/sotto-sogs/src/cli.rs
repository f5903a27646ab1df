//! The `sogs` command line: PySOGS's admin flags (`sogs/__main__.py`, `sogs.md` §4) working
//! directly on the database, plus `sogs serve`.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::err::{Error, Result};
use crate::ids::{AccountId, RoomToken};
use crate::keys::ServerKeys;
use crate::store::{InitMode, Moderators, Permissions, Room, Store};

/// Exit status when database upgrades are needed (PySOGS `--check-upgrades`).
pub const EXIT_UPGRADE_REQUIRED: u8 = 5;
/// Exit status of a refused confirmation.
pub const EXIT_ABORTED: u8 = 2;

const EXAMPLES: &str = "\
Examples:

    # Add new room 'xyz':
    sogs --add-room xyz --name 'XYZ Room'

    # Add 2 admins to each of rooms 'xyz' and 'abc':
    sogs --rooms abc xyz --admin --add-moderators 05012345…cdef 05001122…eeff

    # Add a global moderator visible as a moderator of all rooms:
    sogs --add-moderators 05012345…cdef --rooms=+ --visible

    # Set default read/write True and upload False on all rooms:
    sogs --add-perms rw --remove-perms u --rooms='*'

    # Remove overrides for user 05012345… on all rooms:
    sogs --clear-perms rwua --rooms='*' --users 05012345…cdef

    # List room info:
    sogs -L

A sogs.ini is loaded from the current directory, if one exists; set SOGS_CONFIG to use another.";

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(name = "sogs", version, about = "Session community server (Sotto, PySOGS compatible)",
    after_help = EXAMPLES, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Run a server instead of an admin action.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The admin flags.
    #[command(flatten)]
    pub admin: AdminArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the community server: the HTTP API, until SIGTERM or Ctrl-C.
    Serve {
        /// Listen address, overriding `[net] http_listen` (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<SocketAddr>,
    },
}

/// PySOGS's admin flags, same names and meanings.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Add a room with the given token.
    #[arg(long, value_name = "TOKEN")]
    pub add_room: Option<String>,
    /// Set or update a room's name (with --add-room or --rooms); defaults to the token when
    /// adding.
    #[arg(long)]
    pub name: Option<String>,
    /// Set or update a room's description (with --add-room or --rooms); `\n` and `\\` escapes.
    #[arg(long)]
    pub description: Option<String>,
    /// Delete the room with the given token.
    #[arg(long, value_name = "TOKEN")]
    pub delete_room: Option<String>,
    /// Add the given Session ID(s) as moderators of the rooms given by --rooms.
    #[arg(long, num_args = 1.., value_name = "SESSIONID")]
    pub add_moderators: Vec<String>,
    /// Remove the given Session ID(s) as moderators and admins of the rooms given by --rooms.
    #[arg(long, num_args = 1.., value_name = "SESSIONID")]
    pub delete_moderators: Vec<String>,
    /// Users to set permissions for with --add/--remove/--clear-perms (else room defaults).
    #[arg(long, num_args = 1.., value_name = "SESSIONID")]
    pub users: Vec<String>,
    /// Set these permissions to true: 1-4 of "rwua" (read, write, upload, access).
    #[arg(long, value_name = "FLAGS")]
    pub add_perms: Option<String>,
    /// Set these permissions to false (same letters as --add-perms).
    #[arg(long, value_name = "FLAGS")]
    pub remove_perms: Option<String>,
    /// Clear these user overrides, back to the room default (same letters; needs --users).
    #[arg(long, value_name = "FLAGS")]
    pub clear_perms: Option<String>,
    /// Add the given moderators as admins rather than ordinary moderators.
    #[arg(long)]
    pub admin: bool,
    /// Rooms to act on; a single '+' means global moderators, a single '*' every room.
    #[arg(long, num_args = 1.., value_name = "TOKEN")]
    pub rooms: Vec<String>,
    /// Make added moderators publicly visible (default for room moderators).
    #[arg(long, conflicts_with = "hidden")]
    pub visible: bool,
    /// Hide added moderators from the public (default for global moderators).
    #[arg(long)]
    pub hidden: bool,
    /// List rooms and basic stats.
    #[arg(long, short = 'L')]
    pub list_rooms: bool,
    /// List global moderators and admins.
    #[arg(long, short = 'M')]
    pub list_global_mods: bool,
    /// Show more detail (e.g. moderators in room listings).
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Create the database and key file if they do not exist.
    #[arg(long)]
    pub initialize: bool,
    /// Perform any required database upgrades.
    #[arg(long, short = 'U')]
    pub upgrade: bool,
    /// Check whether database upgrades are required; exit status 5 if they are.
    #[arg(long)]
    pub check_upgrades: bool,
    /// Sotto: create an automation API token with this name (with --admin for room creation,
    /// deletion and server-wide bans; with --rooms to limit it to some rooms). The token is
    /// printed once, alone on the last line.
    #[arg(long, value_name = "NAME")]
    pub add_api_token: Option<String>,
    /// Sotto: revoke the automation API token with this name (effective at once).
    #[arg(long, value_name = "NAME")]
    pub revoke_api_token: Option<String>,
    /// Sotto: list automation API tokens (never the tokens themselves).
    #[arg(long)]
    pub list_api_tokens: bool,
    /// Sotto: ban a Session ID from the whole server (with --purge: delete its posts everywhere).
    #[arg(long, value_name = "SESSIONID")]
    pub ban_global: Option<String>,
    /// With --ban-global: also delete all the user's posts in every room.
    #[arg(long, requires = "ban_global")]
    pub purge: bool,
    /// Sotto: lift a server-wide ban.
    #[arg(long, value_name = "SESSIONID")]
    pub unban_global: Option<String>,
    /// Sotto: list server-wide and room bans.
    #[arg(long)]
    pub list_bans: bool,
}

/// A failure that ends the command with a message (none if empty) and an exit status.
struct Fail {
    code: u8,
    message: String,
}

impl Fail {
    /// Writing our output failed. A reader that went away (`sogs -L | head`) is not an error
    /// of ours: stop quietly, with success, as other Unix filters do.
    fn output(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Self {
                code: 0,
                message: String::new(),
            }
        } else {
            fail(format!("cannot write output: {e}"))
        }
    }
}

/// `write!` to stdout (locked), turning a failure into a [`Fail`] with `?`: `print!` would
/// panic on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        write!(std::io::stdout().lock(), $($arg)*).map_err(Fail::output)?
    };
}

/// `writeln!` to stdout, as [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*).map_err(Fail::output)?
    };
}

fn fail(message: impl Into<String>) -> Fail {
    Fail {
        code: 1,
        message: message.into(),
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        match e {
            Error::UpgradeRequired(_) => Fail {
                code: EXIT_UPGRADE_REQUIRED,
                message: format!(
                    "{e}\nYou can attempt the upgrade using the --upgrade flag; see --help for details."
                ),
            },
            other => fail(other.to_string()),
        }
    }
}

/// Entry point of the `sogs` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                // Nothing better to do if stderr is gone too.
                let _ = writeln!(std::io::stderr(), "Error: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// PySOGS's crude unescaping of `--description`: `\\` and `\n`.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some('\\')) => {
                out.push('\\');
                chars.next();
            }
            ('\\', Some('n')) => {
                out.push('\n');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// Parse `--add/--remove/--clear-perms` letters into one set of changes.
fn parse_perms(args: &AdminArgs) -> Result<Permissions, Fail> {
    let mut perms = Permissions::default();
    let sets = [
        (&args.add_perms, Some(true)),
        (&args.remove_perms, Some(false)),
        (&args.clear_perms, None),
    ];
    for (flags, value) in sets {
        for c in flags.iter().flat_map(|f| f.chars()) {
            let slot = match c {
                'r' => &mut perms.read,
                'w' => &mut perms.write,
                'u' => &mut perms.upload,
                'a' => &mut perms.accessible,
                other => return Err(fail(format!("invalid permission flag '{other}'"))),
            };
            if slot.is_some() {
                return Err(fail(format!(
                    "permission flag '{c}' in more than one permission set (add/remove/clear)"
                )));
            }
            *slot = Some(value);
        }
    }
    Ok(perms)
}

fn parse_token(s: &str) -> Result<RoomToken, Fail> {
    s.parse().map_err(|e: Error| fail(e.to_string()))
}

fn parse_ids(ids: &[String]) -> Result<Vec<AccountId>, Fail> {
    ids.iter()
        .map(|s| s.parse().map_err(|e: Error| fail(e.to_string())))
        .collect()
}

fn run(cli: Cli) -> Result<(), Fail> {
    if let Some(Command::Serve { listen }) = cli.command {
        let config = Config::load()?;
        let addr = listen.unwrap_or(config.http_listen);
        crate::server::run(config, addr)?;
        return Ok(());
    }
    let args = cli.admin;

    let update_room = args.add_room.is_none()
        && (args.description.is_some()
            || args.name.is_some()
            || !args.add_moderators.is_empty()
            || !args.delete_moderators.is_empty()
            || args.add_perms.is_some()
            || args.remove_perms.is_some()
            || args.clear_perms.is_some());
    let actions = [
        ("--add-room", args.add_room.is_some()),
        ("--delete-room", args.delete_room.is_some()),
        ("room modifiers", update_room),
        ("--list-rooms", args.list_rooms),
        ("--list-global-mods", args.list_global_mods),
        ("--initialize", args.initialize),
        ("--upgrade", args.upgrade),
        ("--check-upgrades", args.check_upgrades),
        ("--add-api-token", args.add_api_token.is_some()),
        ("--revoke-api-token", args.revoke_api_token.is_some()),
        ("--list-api-tokens", args.list_api_tokens),
        ("--ban-global", args.ban_global.is_some()),
        ("--unban-global", args.unban_global.is_some()),
        ("--list-bans", args.list_bans),
    ];
    let chosen: Vec<&str> = actions.iter().filter(|a| a.1).map(|a| a.0).collect();
    if let [first, second, ..] = chosen.as_slice() {
        return Err(fail(format!("{first} and {second} are incompatible")));
    }
    if update_room && args.rooms.is_empty() {
        return Err(fail(
            "a room must be specified (using --rooms) when updating permissions or room details",
        ));
    }
    if !args.rooms.is_empty() && !update_room && args.add_api_token.is_none() {
        return Err(fail("--rooms specified without a room modification option"));
    }
    if chosen.is_empty() {
        return Err(fail("no action given; see --help"));
    }
    let perms = parse_perms(&args)?;

    let config = Config::load()?;
    // A PostgreSQL database exists once created on the server; only a SQLite file can be
    // missing here (an empty one is refused by `initialize` below).
    let missing_file =
        !config.db_url.starts_with("postgresql://") && !config.sqlite_path()?.exists();
    if !args.initialize && missing_file {
        return Err(fail(format!(
            "{} database does not exist; use --initialize to create it",
            config.db_url
        )));
    }
    let (keys, _created) = ServerKeys::load_or_create(&config.key_file)?;
    let mut store = Store::open_url(&config)?;
    let changed = store.initialize(InitMode {
        create: Some(args.initialize),
        upgrade: args.upgrade,
    })?;
    store.ensure_system_user(&keys.x25519_public())?;
    if config.require_blind_keys {
        store.record_needs_blinding(&keys.x25519_public())?;
    }

    let mut cx = Context {
        config,
        keys,
        store,
        verbose: args.verbose,
    };
    if args.initialize {
        outln!("Database schema created.");
    } else if args.upgrade {
        outln!(
            "{}",
            if changed {
                "Database successfully upgraded."
            } else {
                "No database upgrades required."
            }
        );
    } else if args.check_upgrades {
        outln!("No database upgrades required.");
    } else if let Some(token) = &args.add_room {
        cx.add_room(token, &args, &perms)?;
    } else if let Some(token) = &args.delete_room {
        cx.delete_room(token, args.yes)?;
    } else if update_room {
        cx.update_rooms(&args, &perms)?;
    } else if args.list_rooms {
        let rooms = cx.store.rooms()?;
        if rooms.is_empty() {
            outln!("No rooms.");
        }
        for room in &rooms {
            cx.print_room(room)?;
        }
    } else if let Some(name) = &args.add_api_token {
        out!(
            "{}",
            crate::admin::add_api_token(&mut cx.store, name, args.admin, &args.rooms)
                .map_err(fail)?
        );
    } else if let Some(name) = &args.revoke_api_token {
        out!(
            "{}",
            crate::admin::revoke_api_token(&mut cx.store, name).map_err(fail)?
        );
    } else if args.list_api_tokens {
        out!(
            "{}",
            crate::admin::list_api_tokens(&cx.store, &cx.keys, cx.config.require_blind_keys)
                .map_err(fail)?
        );
    } else if let Some(id) = &args.ban_global {
        let server = cx.blinding_server();
        out!(
            "{}",
            crate::admin::ban_global(&mut cx.store, id, server.as_ref(), args.purge)
                .map_err(fail)?
        );
    } else if let Some(id) = &args.unban_global {
        let server = cx.blinding_server();
        out!(
            "{}",
            crate::admin::unban_global(&mut cx.store, id, server.as_ref()).map_err(fail)?
        );
    } else if args.list_bans {
        out!("{}", crate::admin::list_bans(&cx.store).map_err(fail)?);
    } else if args.list_global_mods {
        let mods = cx.store.global_moderators()?;
        outln!(
            "{} global admins ({} hidden), {} moderators ({} hidden):",
            mods.admin_count(),
            mods.hidden_admins.len(),
            mods.mod_count(),
            mods.hidden_mods.len()
        );
        print_mod_list(&mods, "- ")?;
    }
    Ok(())
}

fn print_mod_list(mods: &Moderators, indent: &str) -> Result<(), Fail> {
    let groups = [
        (&mods.visible_admins, "admin"),
        (&mods.hidden_admins, "hidden admin"),
        (&mods.visible_mods, "moderator"),
        (&mods.hidden_mods, "hidden moderator"),
    ];
    for (ids, role) in groups {
        for id in ids {
            outln!("{indent}{id} ({role})");
        }
    }
    Ok(())
}

struct Context {
    config: Config,
    keys: ServerKeys,
    store: Store,
    verbose: bool,
}

/// Which rooms `--rooms` names.
enum Target {
    Global,
    Rooms { rooms: Vec<Room>, all: bool },
}

impl Context {
    fn blinding_server(&self) -> Option<sotto_crypto::X25519PublicKey> {
        self.config
            .require_blind_keys
            .then(|| self.keys.x25519_public())
    }

    fn print_room(&self, room: &Room) -> Result<(), Fail> {
        let stats = self.store.room_stats(room.id, now())?;
        let total: i64 = stats.reactions.iter().map(|r| r.1).sum();
        let top: Vec<String> = stats
            .reactions
            .iter()
            .take(5)
            .map(|(r, c)| format!("{r} ({c})"))
            .collect();
        let flag = |b: bool| if b { "+" } else { "-" };
        let mods = &stats.moderators;
        outln!();
        outln!("{}", room.token);
        outln!("{}", "=".repeat(room.token.chars().count()));
        outln!("Name: {}", room.name);
        outln!(
            "Description: {}",
            room.description.as_deref().unwrap_or("None")
        );
        outln!(
            "URL: {}",
            self.config
                .join_url(&room.token, &self.keys.x25519_public().to_hex())
        );
        #[allow(clippy::cast_precision_loss)] // sizes far below 2^52 bytes
        let mb = |bytes: i64| bytes as f64 / 1_000_000.0;
        outln!(
            "Messages: {} ({:.1} MB)",
            stats.messages,
            mb(stats.message_bytes)
        );
        outln!(
            "Attachments: {} ({:.1} MB)",
            stats.files,
            mb(stats.file_bytes)
        );
        outln!("Reactions: {total}; top 5: {}", top.join(", "));
        let [d1, d7, d14, d30] = stats.active;
        outln!("Active users: {d1} (1d), {d7} (7d), {d14} (14d), {d30} (30d)");
        outln!(
            "Default permissions: {}read, {}write, {}upload, {}accessible",
            flag(room.default_read),
            flag(room.default_write),
            flag(room.default_upload),
            flag(room.default_accessible)
        );
        out!(
            "Moderators: {} admins ({} hidden), {} moderators ({} hidden)",
            mods.admin_count(),
            mods.hidden_admins.len(),
            mods.mod_count(),
            mods.hidden_mods.len()
        );
        if self.verbose && !mods.is_empty() {
            outln!(":");
            print_mod_list(mods, "    - ")?;
        } else {
            outln!();
        }
        Ok(())
    }

    fn add_room(&mut self, token: &str, args: &AdminArgs, perms: &Permissions) -> Result<(), Fail> {
        let token = parse_token(token)?;
        if [perms.read, perms.write, perms.upload, perms.accessible].contains(&Some(None)) {
            return Err(fail("--clear-perms cannot be used for room defaults"));
        }
        let description = args.description.as_deref().map(unescape);
        let name = args.name.as_deref().unwrap_or(token.as_str());
        let room = self.store.add_room(
            &token,
            name,
            description.as_deref().filter(|d| !d.is_empty()),
        )?;
        self.store.set_default_permissions(room.id, perms)?;
        let room = self.store.require_room(&token)?;
        outln!("Created room {token}:");
        self.print_room(&room)
    }

    fn delete_room(&mut self, token: &str, yes: bool) -> Result<(), Fail> {
        let token = parse_token(token)?;
        let room = self.store.require_room(&token)?;
        self.print_room(&room)?;
        let confirmed = yes || {
            out!("Are you sure you want to delete this room? [yN] ");
            std::io::stdout().lock().flush().map_err(Fail::output)?;
            let mut answer = String::new();
            std::io::stdin().lock().read_line(&mut answer).ok();
            answer.starts_with(['y', 'Y'])
        };
        if !confirmed {
            outln!("Aborted.");
            return Err(Fail {
                code: EXIT_ABORTED,
                message: "room not deleted".to_owned(),
            });
        }
        self.store.delete_room(&token, now())?;
        outln!("Room deleted.");
        Ok(())
    }

    fn target(&self, rooms: &[String]) -> Result<Target, Fail> {
        if rooms.len() > 1 && rooms.iter().any(|r| r == "+" || r == "*") {
            return Err(fail(
                "'+'/'*' arguments to --rooms cannot be used with other rooms",
            ));
        }
        match rooms {
            [one] if one == "+" => Ok(Target::Global),
            [one] if one == "*" => Ok(Target::Rooms {
                rooms: self.store.rooms()?,
                all: true,
            }),
            _ => {
                let mut found = Vec::new();
                for r in rooms {
                    let token: RoomToken = r
                        .parse()
                        .map_err(|_| fail(format!("no such room: '{r}'")))?;
                    found.push(
                        self.store
                            .room(&token)?
                            .ok_or_else(|| fail(format!("no such room: '{r}'")))?,
                    );
                }
                Ok(Target::Rooms {
                    rooms: found,
                    all: false,
                })
            }
        }
    }

    fn update_rooms(&mut self, args: &AdminArgs, perms: &Permissions) -> Result<(), Fail> {
        let add = parse_ids(&args.add_moderators)?;
        let remove = parse_ids(&args.delete_moderators)?;
        let users = parse_ids(&args.users)?;
        let target = self.target(&args.rooms)?;
        if let Target::Rooms { rooms, .. } = &target {
            if rooms.is_empty() {
                return Err(fail(
                    "--rooms is required when updating room settings/permissions",
                ));
            }
        }
        let server = self.blinding_server();
        let role = if args.admin { "admin" } else { "moderator" };

        for id in &add {
            let user = self.store.resolve_account(id, server.as_ref())?;
            match &target {
                Target::Global => {
                    self.store
                        .set_global_moderator(user.id, args.admin, args.visible)?;
                    let vis = if args.visible { "visible" } else { "hidden" };
                    outln!("Added {id} as {vis} global {role}");
                }
                Target::Rooms { rooms, .. } => {
                    for room in rooms {
                        self.store.set_room_moderator(
                            room.id,
                            user.id,
                            Some(args.admin),
                            !args.hidden,
                        )?;
                        let vis = if args.hidden { "hidden" } else { "visible" };
                        outln!(
                            "Added {} as {vis} {role} of {} ({})",
                            user.session_id,
                            room.name,
                            room.token
                        );
                    }
                }
            }
        }

        for id in &remove {
            let user = self.store.resolve_account(id, server.as_ref())?;
            // When the ID resolved to a blinded account, the unblinded row may hold roles too.
            let unblinded = match id {
                AccountId::Unblinded(_) if !user.is_unblinded() => {
                    self.store.user_by_session_id(&id.to_string())?
                }
                _ => None,
            };
            match &target {
                Target::Global => {
                    for u in std::iter::once(&user).chain(unblinded.iter()) {
                        if u.moderator || u.admin {
                            self.store.remove_global_moderator(u.id)?;
                            let was = if u.admin { "admin" } else { "moderator" };
                            outln!("Removed {} as global {was}", u.session_id);
                        } else if u.id == user.id {
                            outln!("{} was not a global moderator", u.session_id);
                        }
                    }
                }
                Target::Rooms { rooms, .. } => {
                    for room in rooms {
                        for u in std::iter::once(&user).chain(unblinded.iter()) {
                            self.store.remove_room_moderator(room.id, u.id)?;
                            outln!(
                                "Removed {} as moderator/admin of {} ({})",
                                u.session_id,
                                room.name,
                                room.token
                            );
                        }
                    }
                }
            }
        }

        if !perms.is_empty() {
            let Target::Rooms { rooms, .. } = &target else {
                return Err(fail(
                    "--rooms cannot be '+' (i.e. global) when updating room permissions",
                ));
            };
            if users.is_empty() {
                if [perms.read, perms.write, perms.upload, perms.accessible].contains(&Some(None)) {
                    return Err(fail(
                        "--clear-perms needs --users (room defaults cannot be cleared)",
                    ));
                }
                for room in rooms {
                    self.store.set_default_permissions(room.id, perms)?;
                    let named = [
                        ("read", perms.read),
                        ("write", perms.write),
                        ("accessible", perms.accessible),
                        ("upload", perms.upload),
                    ];
                    for (name, change) in named {
                        if let Some(Some(on)) = change {
                            let verb = if on { "Enabled" } else { "Disabled" };
                            outln!("{verb} default {name} permission in {}", room.token);
                        }
                    }
                }
            } else {
                let mut resolved = Vec::new();
                for id in &users {
                    resolved.push(self.store.resolve_account(id, server.as_ref())?);
                }
                for room in rooms {
                    for user in &resolved {
                        self.store.set_user_permissions(room.id, user.id, perms)?;
                        outln!(
                            "Updated room permissions for {} in {}",
                            user.session_id,
                            room.token
                        );
                    }
                }
            }
        }

        let single_rooms = match &target {
            Target::Rooms { rooms, all: false } => Some(rooms),
            _ => None,
        };
        if let Some(description) = &args.description {
            let rooms = single_rooms.ok_or_else(|| {
                fail("--rooms cannot be '+' or '*' (i.e. global/all) with --description")
            })?;
            let description = unescape(description);
            let description = Some(description.as_str()).filter(|d| !d.is_empty());
            for room in rooms {
                self.store.set_room_description(room.id, description)?;
                outln!(
                    "Updated {} description to:\n\n{}\n",
                    room.token,
                    description.unwrap_or("None")
                );
            }
        }
        if let Some(name) = &args.name {
            let rooms = single_rooms.ok_or_else(|| {
                fail("--rooms cannot be '+' or '*' (i.e. global/all) with --name")
            })?;
            for room in rooms {
                self.store.set_room_name(room.id, name)?;
                outln!(
                    "Changed {} name from '{}' to '{name}'",
                    room.token,
                    room.name
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescaping() {
        assert_eq!(unescape(r"a\nb"), "a\nb");
        assert_eq!(unescape(r"a\\nb"), r"a\nb");
        assert_eq!(unescape(r"tab\t"), r"tab\t");
        assert_eq!(unescape("trailing\\"), "trailing\\");
    }

    #[test]
    fn clap_definition() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
