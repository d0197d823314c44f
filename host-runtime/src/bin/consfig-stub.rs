//! `consfig-stub`: the runtime half of every bundle. It has no compiler and
//! no command line; it runs the bundle it is the start of.

fn main() {
    std::process::exit(consfig::runtime::bundled::run_self());
}
