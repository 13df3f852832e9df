//! Rebuild when the kiosk UI changes: rust-embed reads `kiosk-ui/` at compile time, and cargo
//! would not notice an added or removed file there on its own. Also names the git commit a
//! release binary is built from (`SITEGATE_GIT_COMMIT`, for `sitegate_build_info`), unless the
//! packager already set it.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=kiosk-ui");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SITEGATE_GIT_COMMIT");
    // Only release builds (what is installed) look it up: in a debug build every commit would
    // rebuild the whole crate before the next test run, which costs minutes on a 2-core box.
    if std::env::var_os("SITEGATE_GIT_COMMIT").is_none()
        && std::env::var("PROFILE").as_deref() == Ok("release")
    {
        git_commit();
    }
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// The commit of HEAD, when built inside a git checkout with git at hand; nothing otherwise
/// (a source tarball, a packaging chroot without git). Rebuilds when HEAD moves: only paths that
/// exist are watched, since a missing one would make cargo rerun this on every build.
fn git_commit() {
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return;
    };
    println!("cargo:rustc-env=SITEGATE_GIT_COMMIT={commit}");
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", &name])
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
