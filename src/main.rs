//! The sitegate binary (being assembled).
fn main() {}
