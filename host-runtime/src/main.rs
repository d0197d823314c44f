//! The `consfig` binary: the command line of [`consfig::cli`].

fn main() {
    std::process::exit(consfig::cli::main());
}
