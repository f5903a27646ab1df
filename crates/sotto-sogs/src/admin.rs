//! The Sotto-only admin actions of the `sogs` command: automation API tokens and server-wide
//! bans (issue #9). Each returns the text to print (the CLI writes it); errors come back as one line for `Error: …`.

use std::fmt::Write as _;

use rand_core::{OsRng, RngCore};
use sotto_crypto::blinding::BlindedKeyPair;
use sotto_crypto::{BlindingKind, Identity, X25519PublicKey};
use zeroize::Zeroizing;

use crate::api::automation::generate_token;
use crate::ids::{AccountId, RoomToken};
use crate::keys::ServerKeys;
use crate::store::{ApiToken, Store, User};

/// What an action prints (for the CLI to write), or its one-line error.
type Outcome = Result<String, String>;

/// `writeln!` into the action's output text (writing to a `String` cannot fail).
macro_rules! say {
    ($out:ident, $($arg:tt)*) => {
        let _ = writeln!($out, $($arg)*);
    };
}

fn db(e: crate::Error) -> String {
    e.to_string()
}

/// Unix time now.
fn now() -> f64 {
    crate::util::now()
}

/// `--add-api-token NAME [--admin] [--rooms TOKEN…]`: the token goes alone on the last line.
pub(crate) fn add_api_token(
    store: &mut Store,
    name: &str,
    admin: bool,
    rooms: &[String],
) -> Outcome {
    let mut out = String::new();
    if name.trim().is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(format!(
            "an API token name must have 1 to {MAX_TOKEN_NAME_CHARS} characters"
        ));
    }
    let rooms = if rooms.is_empty() {
        None
    } else {
        let mut list = Vec::new();
        for r in rooms {
            let token: RoomToken = r.parse().map_err(|_| format!("no such room: '{r}'"))?;
            let room = store
                .room(&token)
                .map_err(db)?
                .ok_or_else(|| format!("no such room: '{r}'"))?;
            list.push(room.token);
        }
        Some(list)
    };
    let mut seed = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(seed.as_mut_slice());
    let (token, hash) = generate_token();
    let row = ApiToken {
        name: name.to_owned(),
        admin,
        rooms,
        bot_seed: seed,
        created: now(),
        revoked: None,
    };
    if !store.add_api_token(name, &hash, &row).map_err(db)? {
        return Err(format!(
            "an API token named '{name}' already exists; revoke it first"
        ));
    }
    let scope = match &row.rooms {
        None => "all rooms".to_owned(),
        Some(list) => format!("rooms {}", list.join(", ")),
    };
    let kind = if admin { "admin" } else { "room" };
    say!(out, "Created {kind} API token '{name}' for {scope}.");
    say!(
        out,
        "Store it now: it is shown only once. Use it as 'Authorization: Bearer TOKEN'."
    );
    say!(out, "{token}");
    Ok(out)
}

/// Longest token name (it is also the bot's display name; Session limits those to 100
/// bytes, and ours is counted in characters to be simple).
const MAX_TOKEN_NAME_CHARS: usize = 64;

/// `--revoke-api-token NAME`.
pub(crate) fn revoke_api_token(store: &mut Store, name: &str) -> Outcome {
    let mut out = String::new();
    if store.revoke_api_token(name, now()).map_err(db)? {
        say!(out, "Revoked API token '{name}'.");
        Ok(out)
    } else {
        Err(format!("no live API token named '{name}'"))
    }
}

/// The Session ID a token's bot posts as on this server.
fn bot_id(token: &ApiToken, keys: &ServerKeys, blind: bool) -> String {
    let identity = Identity::from_ed25519_seed(&token.bot_seed);
    if blind {
        match BlindedKeyPair::new(&identity, &keys.x25519_public(), BlindingKind::Blind15) {
            Ok(b) => b.blinded_id().to_string(),
            Err(_) => "(cannot blind)".to_owned(),
        }
    } else {
        identity.session_id().to_string()
    }
}

/// `--list-api-tokens`.
pub(crate) fn list_api_tokens(store: &Store, keys: &ServerKeys, blind: bool) -> Outcome {
    let mut out = String::new();
    let tokens = store.api_tokens().map_err(db)?;
    if tokens.is_empty() {
        say!(out, "No API tokens.");
    }
    for t in &tokens {
        let scope = match &t.rooms {
            None => "all rooms".to_owned(),
            Some(list) => format!("rooms: {}", list.join(", ")),
        };
        let state = match t.revoked {
            Some(at) => format!("revoked at {at:.0}"),
            None => "live".to_owned(),
        };
        say!(
            out,
            "{} ({}, {scope}, {state}); created {:.0}; posts as {}",
            t.name,
            if t.admin { "admin" } else { "not admin" },
            t.created,
            bot_id(t, keys, blind)
        );
    }
    Ok(out)
}

fn parse_id(id: &str) -> Result<AccountId, String> {
    id.parse().map_err(|e: crate::Error| e.to_string())
}

/// Add the row of `id` as written (a `05` user seen before blinding) unless `users` has it.
fn add_own_row(store: &Store, id: &AccountId, users: &mut Vec<User>) -> Result<(), String> {
    if let Some(u) = store.user_by_session_id(&id.to_string()).map_err(db)? {
        if users.iter().all(|x| x.id != u.id) {
            users.push(u);
        }
    }
    Ok(())
}

/// The rows a ban of `id` covers: the resolved account and the `05` row if both exist.
fn ban_rows(
    store: &mut Store,
    id: &AccountId,
    server: Option<&X25519PublicKey>,
) -> Result<Vec<User>, String> {
    let main = store.resolve_account(id, server).map_err(db)?;
    let mut users = vec![main];
    add_own_row(store, id, &mut users)?;
    Ok(users)
}

/// `--ban-global ID [--purge]`.
pub(crate) fn ban_global(
    store: &mut Store,
    id: &str,
    server: Option<&X25519PublicKey>,
    purge: bool,
) -> Outcome {
    let mut out = String::new();
    let id = parse_id(id)?;
    let users = ban_rows(store, &id, server)?;
    if users.iter().any(|u| u.moderator || u.admin) {
        return Err(format!(
            "{id} is a global moderator or admin; remove the role first"
        ));
    }
    let deleted =
        crate::api::automation::global_ban_users(store, &users, None, purge).map_err(db)?;
    say!(out, "Banned {id} from the whole server.");
    if purge {
        say!(out, "Deleted {deleted} of their messages.");
    }
    Ok(out)
}

/// `--unban-global ID`.
pub(crate) fn unban_global(
    store: &mut Store,
    id: &str,
    server: Option<&X25519PublicKey>,
) -> Outcome {
    let mut out = String::new();
    let id = parse_id(id)?;
    let blinded = match (&id, server) {
        (AccountId::Unblinded(sid), Some(server)) => {
            sotto_crypto::blinding::blind15_candidates(sid, server)
                .ok()
                .map(|[p, n]| [p.to_string(), n.to_string()])
        }
        _ => None,
    };
    let mut users: Vec<User> = store
        .find_user(&id.to_string(), blinded)
        .map_err(db)?
        .into_iter()
        .collect();
    add_own_row(store, &id, &mut users)?;
    let banned: Vec<&User> = users.iter().filter(|u| u.banned).collect();
    if banned.is_empty() {
        return Err(format!("{id} is not banned server-wide"));
    }
    for u in banned {
        store.unban_globally(u.id).map_err(db)?;
    }
    say!(out, "Unbanned {id}.");
    Ok(out)
}

/// `--list-bans`: server-wide bans, then room bans.
pub(crate) fn list_bans(store: &Store) -> Outcome {
    let mut out = String::new();
    let global = store.bans(None).map_err(db)?;
    let rooms = store.all_room_bans().map_err(db)?;
    if global.is_empty() && rooms.is_empty() {
        say!(out, "No bans.");
    }
    let until = |u: Option<f64>| match u {
        Some(t) => format!(" (until {t:.0})"),
        None => String::new(),
    };
    for b in &global {
        say!(out, "{} server-wide{}", b.session_id, until(b.until));
    }
    for b in &rooms {
        say!(
            out,
            "{} in {}{}",
            b.session_id,
            b.room.as_deref().unwrap_or("?"),
            until(b.until)
        );
    }
    Ok(out)
}
