//! Reads a TCTI string (`TPM2TOOLS_TCTI`, tpm2-tools' `name[:options]` form) into the
//! [`TctiNameConf`] a [`tss_esapi::Context`] opens.
//!
//! tss-esapi's own `TctiNameConf::from_str` matches the name and every option with the `regex`
//! crate, and that call alone keeps a whole regex engine (about 0.57 MiB of `regex_automata`,
//! `regex_syntax` and `aho_corasick`) in the app after LTO. What a user's computer needs (the
//! kernel's device node, or the TPM2 Access Broker on its default bus) is read here by hand,
//! with no regex. Options for the simulators and the broker (`swtpm:host=…,port=…`,
//! `tabrmd:bus_name=…`) are for development and tests; only a build with the `tpm-simulator`
//! feature reads them, through tss-esapi.

use std::str::FromStr;

use tss_esapi::tcti_ldr::{DeviceConfig, NetworkTPMConfig, TabrmdConfig};
use tss_esapi::TctiNameConf;

use crate::error::DeviceKeyError;

/// At most this many characters of a TCTI string are quoted in an error.
const QUOTED: usize = 80;

/// The TCTI `tcti` names. `device` and `device:PATH` (tpm2-tss opens `/dev/tpm0` for `device`
/// alone); `tabrmd`, `mssim`, `swtpm` alone or with an empty option list are their defaults
/// (the system bus's `com.intel.tss2.Tabrmd`; a simulator at `localhost:2321`). Any other
/// options need the `tpm-simulator` feature.
pub(super) fn parse(tcti: &str) -> Result<TctiNameConf, DeviceKeyError> {
    // A control character is never part of a device path or an option, and would reach the
    // error text (a missing device node is named in its error).
    if tcti.chars().any(char::is_control) {
        return Err(unknown(tcti));
    }
    let (name, options) = match tcti.split_once(':') {
        Some((name, options)) => (name, options),
        None => (tcti, ""),
    };
    match name {
        "device" => DeviceConfig::from_str(options)
            .map(TctiNameConf::Device)
            .map_err(|_| unknown(tcti)),
        "tabrmd" if options.is_empty() => Ok(TctiNameConf::Tabrmd(TabrmdConfig::default())),
        "mssim" if options.is_empty() => Ok(TctiNameConf::Mssim(NetworkTPMConfig::default())),
        "swtpm" if options.is_empty() => Ok(TctiNameConf::Swtpm(NetworkTPMConfig::default())),
        "tabrmd" | "mssim" | "swtpm" => with_options(tcti),
        _ => Err(unknown(tcti)),
    }
}

fn unknown(tcti: &str) -> DeviceKeyError {
    DeviceKeyError::Tpm(format!(
        "TPM2TOOLS_TCTI names no TCTI this app knows: {}",
        crate::text::sanitize(tcti, QUOTED)
    ))
}

/// A simulator or broker TCTI with options: tss-esapi's regex-based reader, in development
/// and test builds only.
#[cfg(feature = "tpm-simulator")]
fn with_options(tcti: &str) -> Result<TctiNameConf, DeviceKeyError> {
    TctiNameConf::from_str(tcti).map_err(|_| unknown(tcti))
}

#[cfg(not(feature = "tpm-simulator"))]
fn with_options(tcti: &str) -> Result<TctiNameConf, DeviceKeyError> {
    Err(DeviceKeyError::Tpm(format!(
        "TPM2TOOLS_TCTI has options this build does not read: {}; it reads only device[:path], \
         and tabrmd, mssim or swtpm without options (the tpm-simulator build feature enables \
         the rest)",
        crate::text::sanitize(tcti, QUOTED)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(path: &str) -> TctiNameConf {
        TctiNameConf::Device(DeviceConfig::from_str(path).unwrap())
    }

    #[test]
    fn device_alone_is_tpm2_tss_default_node() {
        assert_eq!(
            parse("device").unwrap(),
            TctiNameConf::Device(DeviceConfig::default())
        );
        assert_eq!(
            parse("device:").unwrap(),
            TctiNameConf::Device(DeviceConfig::default())
        );
        assert_eq!(
            DeviceConfig::default(),
            DeviceConfig::from_str("/dev/tpm0").unwrap()
        );
    }

    #[test]
    fn device_with_a_path_opens_that_path() {
        assert_eq!(
            parse(super::super::DEFAULT_TCTI).unwrap(),
            device("/dev/tpmrm0")
        );
        // Everything after the first colon is the path, colons included.
        assert_eq!(parse("device:/tmp/a:b").unwrap(), device("/tmp/a:b"));
        assert_ne!(parse("device:/dev/tpm1").unwrap(), device("/dev/tpm0"));
    }

    #[test]
    fn bare_names_are_their_default_configs() {
        assert_eq!(
            parse("tabrmd").unwrap(),
            TctiNameConf::Tabrmd(TabrmdConfig::default())
        );
        assert_eq!(
            parse("mssim").unwrap(),
            TctiNameConf::Mssim(NetworkTPMConfig::default())
        );
        assert_eq!(
            parse("swtpm").unwrap(),
            TctiNameConf::Swtpm(NetworkTPMConfig::default())
        );
        assert_eq!(
            parse("swtpm:").unwrap(),
            TctiNameConf::Swtpm(NetworkTPMConfig::default())
        );
    }

    #[test]
    fn unknown_names_are_refused_with_the_text_sanitized() {
        for tcti in ["", "devicefoo", "libtpms", "Device:/dev/tpm0", ":device"] {
            let error = parse(tcti).unwrap_err();
            assert!(
                matches!(&error, DeviceKeyError::Tpm(text)
                    if text.starts_with("TPM2TOOLS_TCTI names no TCTI this app knows")),
                "{tcti:?}: {error:?}"
            );
        }
        let error = parse("device:/dev/tpm0\n\u{1b}[31mfake").unwrap_err();
        let DeviceKeyError::Tpm(text) = &error else {
            panic!("{error:?}");
        };
        assert!(!text.chars().any(char::is_control), "{text:?}");
        let long = format!("bogus:{}", "x".repeat(500));
        let DeviceKeyError::Tpm(text) = parse(&long).unwrap_err() else {
            panic!("not a TPM error");
        };
        assert!(text.chars().count() < 200, "{text}");
    }

    #[cfg(not(feature = "tpm-simulator"))]
    #[test]
    fn options_are_refused_without_the_simulator_feature() {
        for tcti in [
            "swtpm:host=127.0.0.1,port=2321",
            "mssim:port=2321",
            "tabrmd:bus_name=com.example.Tabrmd",
        ] {
            let error = parse(tcti).unwrap_err();
            let DeviceKeyError::Tpm(text) = &error else {
                panic!("{tcti}: {error:?}");
            };
            assert!(text.contains(tcti), "{text}");
            assert!(text.contains("device[:path]"), "{text}");
            assert!(text.contains("tpm-simulator"), "{text}");
        }
    }

    #[cfg(feature = "tpm-simulator")]
    #[test]
    fn options_are_read_with_the_simulator_feature() {
        for tcti in [
            "swtpm:host=127.0.0.1,port=2321",
            "mssim:host=localhost,port=2400",
            "tabrmd:bus_name=com.example.Tabrmd,bus_type=session",
        ] {
            assert_eq!(
                parse(tcti).unwrap(),
                TctiNameConf::from_str(tcti).unwrap(),
                "{tcti}"
            );
        }
        assert_ne!(
            parse("swtpm:port=2400").unwrap(),
            TctiNameConf::Swtpm(NetworkTPMConfig::default())
        );
        // tss-esapi's own checks still apply: a port that is no number.
        let error = parse("swtpm:port=none").unwrap_err();
        assert!(
            matches!(&error, DeviceKeyError::Tpm(text)
                if text.starts_with("TPM2TOOLS_TCTI names no TCTI this app knows")),
            "{error:?}"
        );
    }
}
