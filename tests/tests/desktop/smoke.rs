//! The real-window smoke test: the built app opens in WebKitGTK and shows its first screen.

use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};

#[tokio::test(flavor = "multi_thread")]
async fn the_app_opens_on_the_registration_screen() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    // The development config `make run` uses, passed explicitly: the app has no built-in one.
    let config = dcr_tests::repo_root().join("config.json");
    let desktop = Desktop::launch(&["--config", config.to_str().expect("utf-8 path")]).await;
    let heading = desktop.text_of("h1").await;
    desktop.screenshot("smoke-first-screen").await;
    desktop.close().await;
    assert_eq!(heading, "Register this device");
}

/// The startup stamps (docs/benchmarks.md, "Reading the startup stamps"): with the startup
/// target at debug, the log names every stage from process start to the first screen painted,
/// the page's own included, each with its milliseconds since process start, in the order they
/// happen. And the first frame WebKit paints is Register itself, its state carried with the
/// page's script.
#[tokio::test(flavor = "multi_thread")]
async fn the_log_stamps_each_startup_stage() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let data = std::env::temp_dir().join(format!("dcr-e2e-stamps-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).expect("a scratch data folder");
    let config = dcr_tests::repo_root().join("config.json");
    let env = [
        ("XDG_DATA_HOME", Some(data.as_os_str())),
        (
            "RUST_LOG",
            Some(std::ffi::OsStr::new("info,dcr_desktop::startup=debug")),
        ),
    ];
    let desktop =
        Desktop::launch_with_env(&["--config", config.to_str().expect("utf-8 path")], &env).await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    // The page reports its stamps two frames after the screen entered the DOM.
    let log_file = data.join("io.curity.dcrclient/logs/dcr-client.log");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut log = String::new();
    while std::time::Instant::now() < deadline {
        log = std::fs::read_to_string(&log_file).unwrap_or_default();
        if log.contains("stage=\"first screen painted\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    desktop.close().await;
    let _ = std::fs::remove_dir_all(&data);
    let at = |stage: &str| -> f64 {
        let line = log
            .lines()
            .find(|line| line.contains(&format!("stage=\"{stage}\"")))
            .unwrap_or_else(|| panic!("no stamp for {stage}:\n{log}"));
        let ms = line.split("ms=").nth(1).expect("ms=").trim();
        ms.split_whitespace()
            .next()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or_else(|| panic!("a number of ms: {line}"))
    };
    assert_eq!(at("process start"), 0.0);
    // The shell's own stages, on one clock.
    let shell = ["window created", "setup done", "page committed"].map(at);
    assert!(shell.windows(2).all(|w| w[0] <= w[1]), "{shell:?}");
    assert!(shell[0] > 0.0, "{shell:?}");
    // The page's, on its clock (the same system clock).
    let page = [
        "first script",
        "state rendered in the page",
        "first screen painted",
    ]
    .map(at);
    assert!(page.windows(2).all(|w| w[0] <= w[1]), "{page:?}");
    assert!(
        page[0] > shell[1],
        "the page's script ran after setup: {page:?} {shell:?}"
    );
    for stage in [
        "keychain read-ahead started",
        "state read started",
        "state read done",
    ] {
        at(stage);
    }
    // The first frame: Register came with the script, so it was in the DOM before WebKit's
    // first paint. The shell says which way it went; without the state in time (a keychain
    // slower than the script's wait) the page starts on the neutral frame, and says so.
    let carried = log.contains("stage=\"first view carried with the script\"");
    assert!(
        carried
            || log.contains("stage=\"first view not ready: the page asks\"")
            || log.contains("stage=\"no first view to carry: the page asks\""),
        "the shell names how the first view went:\n{log}"
    );
    if carried {
        assert!(
            at("state rendered in the page") <= at("first paint"),
            "Register was in the DOM before the first paint: {page:?}, first paint {}",
            at("first paint")
        );
    }
}
