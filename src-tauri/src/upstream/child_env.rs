//! The environment a stdio server starts with.
//!
//! A server runs with the user's rights, but it need not see everything the gateway's
//! environment holds — an SSH agent socket, cloud credentials, the API keys of the shell that
//! started Loopgate. A child gets only:
//!
//! 1. the variables a program needs to run at all, the set the official MCP SDKs pass by
//!    default ([`INHERITED`]: `HOME LOGNAME PATH SHELL TERM USER` on Unix; the system and
//!    profile paths on Windows), plus the locale (`LANG`, `LANGUAGE`, `LC_*`), the temp
//!    directories (`TMPDIR`, `TMP`, `TEMP`) and the XDG base directories;
//! 2. the names the server's `inheritEnv` lists (`["*"]` for everything — opt in per server);
//! 3. the server's own `env` (secrets resolved), which wins over both.

use std::collections::BTreeMap;
use std::ffi::OsString;

/// Variables every stdio server inherits (when set in the gateway's environment).
#[cfg(not(windows))]
pub const INHERITED: &[&str] = &[
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "TERM",
    "USER",
    "LANG",
    "LANGUAGE",
    "TMPDIR",
    "TMP",
    "TEMP",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
];

/// Variables every stdio server inherits (when set in the gateway's environment).
#[cfg(windows)]
pub const INHERITED: &[&str] = &[
    "APPDATA",
    "HOMEDRIVE",
    "HOMEPATH",
    "LOCALAPPDATA",
    "PATH",
    "PATHEXT",
    "PROCESSOR_ARCHITECTURE",
    "SYSTEMDRIVE",
    "SYSTEMROOT",
    "TEMP",
    "TMP",
    "USERNAME",
    "USERPROFILE",
    "PROGRAMFILES",
    "PROGRAMFILES(X86)",
    "PROGRAMDATA",
    "COMSPEC",
    "WINDIR",
];

/// Prefix of inherited locale variables (`LC_ALL`, `LC_CTYPE`, …).
const LOCALE_PREFIX: &str = "LC_";

fn inherited_by_default(name: &str) -> bool {
    let name_cmp = |k: &&str| {
        if cfg!(windows) {
            k.eq_ignore_ascii_case(name)
        } else {
            *k == name
        }
    };
    INHERITED.iter().any(name_cmp) || name.starts_with(LOCALE_PREFIX)
}

/// The environment for a child: from `parent` (the gateway's variables, e.g.
/// `std::env::vars_os()`), the default set plus the names in `inherit` (`"*"` = all), then
/// `own` (the server's `env`) on top. Returns the variables sorted by name.
pub fn child_env(
    parent: impl IntoIterator<Item = (OsString, OsString)>,
    inherit: &[String],
    own: &[(String, String)],
) -> BTreeMap<OsString, OsString> {
    let everything = inherit.iter().any(|n| n == "*");
    let mut out: BTreeMap<OsString, OsString> = parent
        .into_iter()
        .filter(|(k, _)| {
            everything
                || k.to_str()
                    .is_some_and(|k| inherited_by_default(k) || inherit.iter().any(|n| n == k))
        })
        .collect();
    for (k, v) in own {
        out.insert(k.into(), v.into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parent() -> Vec<(OsString, OsString)> {
        [
            ("PATH", "/usr/bin"),
            ("HOME", "/home/u"),
            ("LC_CTYPE", "C.UTF-8"),
            ("AWS_SECRET_ACCESS_KEY", "planted"),
            ("SSH_AUTH_SOCK", "/tmp/agent"),
            ("DISPLAY", ":0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
    }

    fn names(env: &BTreeMap<OsString, OsString>) -> Vec<&str> {
        env.keys().map(|k| k.to_str().unwrap()).collect()
    }

    #[cfg(not(windows))]
    #[test]
    fn only_the_basics_and_what_the_server_asks_for() {
        let env = child_env(parent(), &[], &[("API_KEY".into(), "k".into())]);
        assert_eq!(names(&env), ["API_KEY", "HOME", "LC_CTYPE", "PATH"]);
        let env = child_env(parent(), &["DISPLAY".into()], &[]);
        assert!(env.contains_key(std::ffi::OsStr::new("DISPLAY")));
        assert!(!env.contains_key(std::ffi::OsStr::new("AWS_SECRET_ACCESS_KEY")));
        let env = child_env(parent(), &["*".into()], &[("PATH".into(), "/mine".into())]);
        assert_eq!(env.len(), 6);
        assert_eq!(env[std::ffi::OsStr::new("PATH")], "/mine", "own env wins");
    }
}
