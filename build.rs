//! Rebuild when the kiosk UI changes: rust-embed reads `kiosk-ui/` at compile time, and cargo
//! would not notice an added or removed file there on its own.

fn main() {
    println!("cargo:rerun-if-changed=kiosk-ui");
    println!("cargo:rerun-if-changed=build.rs");
}
