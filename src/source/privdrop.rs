//! Dropping root after the capture handle is open, before a single packet is parsed.
//!
//! Dissectors parse bytes chosen by whoever sends packets; they should not run as root. A
//! live capture therefore opens its handle (the only step that needs `CAP_NET_RAW` /
//! `CAP_NET_ADMIN`), sets its filter, and then calls [`drop_privileges`]:
//!
//! 1. `-Z USER` names the user (`-Z root` keeps root, when asked for explicitly);
//! 2. else the user who ran `sudo` (`SUDO_UID` / `SUDO_GID`), so `-w` files belong to them;
//! 3. else `nobody`.
//!
//! The switch is `initgroups` (or `setgroups`), `setgid`, `setuid`, in that order: groups and
//! gid can only be changed while still root, and `setuid` from root changes the real, effective
//! and saved ids at once, so root cannot be regained. It is done through `nix`, whose safe
//! wrappers keep the crate free of `unsafe`; the result is then checked with `getresuid` /
//! `getresgid` rather than trusted. glibc applies these calls to every thread of the process.
//!
//! A process that is not root (running with file capabilities, see the README's `setcap`
//! line) has no user to change; it clears its capability sets instead (through the `caps`
//! crate, safe and pure Rust), so the open socket is all that is left of its privileges, as
//! tcpdump does with libcap-ng. `-Z` naming another user is then an error, as for tcpdump.
//! Capabilities are per thread on Linux: this runs before the capture thread is started.

use nix::unistd::{self, Gid, Group, Uid, User};
use std::ffi::CString;

/// The user netsniff falls back to when neither `-Z` nor sudo names one.
pub const FALLBACK_USER: &str = "nobody";
/// uid/gid used when `nobody` is missing from the user database (the traditional value).
const NOBODY_ID: u32 = 65_534;

/// What [`drop_privileges`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dropped {
    /// Not running as root: capabilities (if the binary had any) were cleared.
    NotRoot,
    /// `-Z root` (or sudo from root): kept root as asked.
    KeptRoot,
    /// Now running as this user.
    To { name: String, uid: u32, gid: u32 },
}

/// Where to go, before any call is made.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    name: Option<String>,
    uid: u32,
    gid: u32,
}

/// Drops root as described in the module documentation. `user` is `-Z`'s value.
pub fn drop_privileges(user: Option<&str>) -> Result<Dropped, String> {
    let euid = unistd::geteuid();
    if !euid.is_root() {
        if let Some(name) = user {
            let me = User::from_uid(euid).ok().flatten().map(|u| u.name);
            if me.as_deref() != Some(name) {
                return Err(format!(
                    "-Z {name}: changing user needs netsniff to start as root (it runs as uid {euid})"
                ));
            }
        }
        clear_capabilities()?;
        return Ok(Dropped::NotRoot);
    }
    let target = match user {
        Some("root") => return Ok(Dropped::KeptRoot),
        Some(name) => lookup(name)?.ok_or_else(|| format!("-Z {name}: no such user"))?,
        None => match sudo_target()? {
            Some(t) => t,
            None => lookup(FALLBACK_USER)?.unwrap_or(Target {
                name: None,
                uid: NOBODY_ID,
                gid: NOBODY_ID,
            }),
        },
    };
    if target.uid == 0 {
        return Ok(Dropped::KeptRoot);
    }
    switch(&target)?;
    Ok(Dropped::To {
        name: target.name.unwrap_or_else(|| target.uid.to_string()),
        uid: target.uid,
        gid: target.gid,
    })
}

/// Empties the effective, permitted, inheritable and ambient sets, which cannot be undone.
fn clear_capabilities() -> Result<(), String> {
    use caps::CapSet;
    for set in [
        CapSet::Ambient,
        CapSet::Effective,
        CapSet::Inheritable,
        CapSet::Permitted,
    ] {
        caps::clear(None, set)
            .map_err(|e| format!("giving up capabilities after opening the capture: {e}"))?;
    }
    Ok(())
}

fn lookup(name: &str) -> Result<Option<Target>, String> {
    let user = User::from_name(name).map_err(|e| format!("looking up user {name}: {e}"))?;
    Ok(user.map(|u| Target {
        name: Some(u.name),
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
    }))
}

/// The invoking user under sudo, from `SUDO_UID` / `SUDO_GID`.
fn sudo_target() -> Result<Option<Target>, String> {
    let Some(uid) = std::env::var("SUDO_UID").ok() else {
        return Ok(None);
    };
    let uid: u32 = uid
        .trim()
        .parse()
        .map_err(|_| format!("SUDO_UID={uid} is not a user id"))?;
    let user = User::from_uid(Uid::from_raw(uid)).ok().flatten();
    let gid = match std::env::var("SUDO_GID").ok() {
        Some(g) => g
            .trim()
            .parse()
            .map_err(|_| format!("SUDO_GID={g} is not a group id"))?,
        None => user.as_ref().map_or(uid, |u| u.gid.as_raw()),
    };
    Ok(Some(Target {
        name: user.map(|u| u.name),
        uid,
        gid,
    }))
}

fn switch(t: &Target) -> Result<(), String> {
    let who = t.name.clone().unwrap_or_else(|| format!("uid {}", t.uid));
    let gid = Gid::from_raw(t.gid);
    // Supplementary groups first: root's must not survive the switch.
    let groups = match t.name.as_deref().map(CString::new) {
        Some(Ok(name)) => unistd::initgroups(&name, gid),
        _ => unistd::setgroups(&[gid]),
    };
    groups.map_err(|e| format!("dropping privileges to {who}: setting groups: {e}"))?;
    unistd::setgid(gid).map_err(|e| format!("dropping privileges to {who}: setgid: {e}"))?;
    unistd::setuid(Uid::from_raw(t.uid))
        .map_err(|e| format!("dropping privileges to {who}: setuid: {e}"))?;
    // Trust, but verify: no id may still be root, and root must not be regainable.
    let ids = unistd::getresuid().map_err(|e| e.to_string())?;
    let gids = unistd::getresgid().map_err(|e| e.to_string())?;
    let still_root = [ids.real, ids.effective, ids.saved]
        .iter()
        .any(|u| u.is_root())
        || [gids.real, gids.effective, gids.saved]
            .iter()
            .any(|g| g.as_raw() == 0 && t.gid != 0);
    if still_root || unistd::setuid(Uid::from_raw(0)).is_ok() {
        return Err(format!("dropping privileges to {who}: root is still held"));
    }
    Ok(())
}

/// The name of the group `gid`, for messages.
pub fn group_name(gid: u32) -> String {
    Group::from_gid(Gid::from_raw(gid))
        .ok()
        .flatten()
        .map_or_else(|| gid.to_string(), |g| g.name)
}
