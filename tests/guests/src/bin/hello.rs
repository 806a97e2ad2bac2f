//! The trivial WASI command the start-up benchmark runs: prints its arguments and exits.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("hello {}", args.join(" "));
}
