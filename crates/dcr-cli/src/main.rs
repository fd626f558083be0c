fn main() {
    eprintln!("error[notImplemented]: the dcr CLI arrives with the engine issue");
    std::process::exit(2);
}
