fn main() {
    std::process::exit(consfig::cli::main());
}
