//! The device key held by this computer's TPM 2.0 (Linux): a P-256 signing key whose private
//! half never leaves the chip.
//!
//! - **The parent.** Every key is created under a storage primary key in the owner hierarchy,
//!   made from one fixed template ([`storage_primary_template`]). A primary key is derived from
//!   the hierarchy's seed and the template (TCG TPM 2.0 Library Part 1, §27.1 "Primary Keys" /
//!   TPM2_CreatePrimary, Part 3 §24.1), so the same TPM re-creates the same parent every time
//!   and nothing has to stay loaded or persisted in the TPM between runs.
//! - **The stored form.** TPM2_Create (Part 3 §12.1) returns the key's public area and its
//!   private area encrypted and integrity-protected with the parent's symmetric key (Part 1
//!   §22, "Protected Storage"). The keychain entry holds those two blobs, base64url:
//!   `{"tpm":{"public":…,"private":…}}`. The private blob is useless outside this TPM: another
//!   TPM derives a different parent, and TPM2_Load fails its integrity check.
//! - **Signing.** The signing input is hashed here (SHA-256) and signed by TPM2_Sign with ECDSA
//!   (Part 3 §20.2); the TPM's `r` and `s` become the JWS `R || S` (RFC 7518 §3.4).
//! - **Which TPM.** `device:/dev/tpmrm0` (the kernel's resource manager) unless the tpm2-tools
//!   convention `TPM2TOOLS_TCTI` names another TCTI, e.g. `swtpm:host=127.0.0.1,port=2321` for
//!   a software TPM (read by [`tcti`]: options only in a `tpm-simulator` build). A process talks
//!   to one TPM; tests that need another call the `_on` forms.
//! - **No resource manager assumed.** A software TPM reached over TCP has none (and serves
//!   one connection at a time), so every transient object this module loads is flushed on
//!   every path (Part 3 §28.4, TPM2_FlushContext), and each operation opens and closes its
//!   own connection: a connection kept open would shut out every other user of such a TPM
//!   (the CLI while the app runs, a new key during a rotation).
//! - **Loaded once.** Re-deriving the storage primary (an ECC key derivation inside the TPM)
//!   and TPM2_Load would be repeated for every signature, and a refresh signs two or three
//!   times (the `tpm_key` bench measures both ways, docs/benchmarks.md). So after the first load the key's context is saved (TPM2_ContextSave, Part 3
//!   §28.2: the TPM encrypts and integrity-protects it, and only this TPM, in this power cycle
//!   and with this owner seed, loads it again) and kept in memory; each signature is then
//!   TPM2_ContextLoad, TPM2_Sign, TPM2_FlushContext. When the saved context no longer loads (a
//!   TPM reset invalidates it, a TPM2_Clear changes the seed), the key is loaded from its
//!   blobs once more, which is where a cleared TPM shows as "no longer available".

use std::sync::{Mutex, MutexGuard, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::digest::{digest, SHA256};
use serde_json::{json, Value};
use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::constants::response_code::Tss2ResponseCodeKind;
use tss_esapi::constants::tss::{TPM2_RH_NULL, TPM2_ST_HASHCHECK};
use tss_esapi::handles::KeyHandle;
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::AuthSession;
use tss_esapi::structures::{
    Digest, EccPoint, EccScheme, HashScheme, HashcheckTicket, Private, Public, PublicBuilder,
    PublicEccParametersBuilder, Signature, SignatureScheme, SymmetricDefinitionObject,
};
use tss_esapi::traits::{Marshall, UnMarshall};
use tss_esapi::tss2_esys::TPMT_TK_HASHCHECK;
use tss_esapi::utils::{create_unrestricted_signing_ecc_public, TpmsContext};
use tss_esapi::Context;

use super::signer::{es256_from_scalars, DeviceSigner, Es256Signature, KeyHolder, PublicPoint};
use crate::error::DeviceKeyError;
use crate::Secret;

mod tcti;

/// The kernel's TPM resource manager device: what `device` means without `TPM2TOOLS_TCTI`.
pub const DEFAULT_TCTI: &str = "device:/dev/tpmrm0";

/// A TCTI set in-process (a test's software TPM), ahead of `TPM2TOOLS_TCTI`. The environment
/// is not written instead: changing it while other threads read it is undefined behaviour in C.
static PROCESS_TCTI: RwLock<Option<String>> = RwLock::new(None);

/// The TCTI this process's TPM keys use: [`set_process_tcti`], else `TPM2TOOLS_TCTI`, else
/// [`DEFAULT_TCTI`].
pub fn process_tcti() -> String {
    let set = PROCESS_TCTI
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    set.or_else(|| {
        std::env::var("TPM2TOOLS_TCTI")
            .ok()
            .filter(|tcti| !tcti.trim().is_empty())
    })
    .unwrap_or_else(|| DEFAULT_TCTI.to_owned())
}

/// Points this process's TPM keys at `tcti` (`None`: back to `TPM2TOOLS_TCTI` or the device).
pub fn set_process_tcti(tcti: Option<&str>) {
    *PROCESS_TCTI
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = tcti.map(str::to_owned);
}

/// A P-256 key in a TPM: its public point, and the blobs that load it into that TPM again.
pub struct TpmKey {
    tcti: String,
    public: Vec<u8>,
    private: Vec<u8>,
    point: PublicPoint,
    /// The key's saved context (TPM2_ContextSave) once it was loaded: signing loads that
    /// instead of re-deriving the parent and loading the blobs. Under a lock: one signature at
    /// a time per key.
    saved: Mutex<Option<TpmsContext>>,
}

impl std::fmt::Debug for TpmKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TpmKey")
            .field("tcti", &self.tcti)
            .finish_non_exhaustive()
    }
}

impl TpmKey {
    /// A new key in this process's TPM.
    pub fn generate() -> Result<Self, DeviceKeyError> {
        Self::generate_on(&process_tcti())
    }

    /// A new key in the TPM at `tcti`.
    pub fn generate_on(tcti: &str) -> Result<Self, DeviceKeyError> {
        let template = signing_key_template().map_err(|e| tpm_failed("key template", e))?;
        let created = with_parent(tcti, |context, parent| {
            context.create(parent, template, None, None, None, None)
        })
        .map_err(|failure| failure.into_error(DeviceKeyError::Generate))?;
        let public = created
            .out_public
            .marshall()
            .map_err(|e| tpm_failed("the new key's public area", e))?;
        let private = created.out_private.value().to_vec();
        Self::from_blobs_on(tcti, &public, &private)
    }

    /// The key in this process's TPM, from its stored blobs. Reads the public point from the
    /// public area without the TPM; whether the TPM still accepts the key shows at signing.
    pub fn from_blobs(public: &[u8], private: &[u8]) -> Result<Self, DeviceKeyError> {
        Self::from_blobs_on(&process_tcti(), public, private)
    }

    /// The same, for the TPM at `tcti`.
    pub fn from_blobs_on(
        tcti: &str,
        public: &[u8],
        private: &[u8],
    ) -> Result<Self, DeviceKeyError> {
        let area = Public::unmarshall(public).map_err(|_| DeviceKeyError::Unreadable)?;
        let point = ecc_p256_point(&area).ok_or(DeviceKeyError::Unreadable)?;
        // Checked here so a damaged entry is reported as unreadable, not at the first signature.
        Private::try_from(private.to_vec()).map_err(|_| DeviceKeyError::Unreadable)?;
        Ok(Self {
            tcti: tcti.to_owned(),
            public: public.to_vec(),
            private: private.to_vec(),
            point,
            saved: Mutex::new(None),
        })
    }

    /// The stored form's `tpm` member: `{"public":…,"private":…}`.
    pub fn from_stored(member: &Value) -> Result<Self, DeviceKeyError> {
        let blob = |name: &str| {
            member
                .get(name)
                .and_then(Value::as_str)
                .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
                .ok_or(DeviceKeyError::Unreadable)
        };
        Self::from_blobs(&blob("public")?, &blob("private")?)
    }

    /// Whether the public area says the TPM made the private key and will never let it out
    /// (TPM 2.0 Part 1 §27.2: `fixedTPM`, `fixedParent`, `sensitiveDataOrigin`), which is
    /// what makes the private blob useless anywhere else.
    pub fn never_leaves_the_tpm(&self) -> bool {
        Public::unmarshall(&self.public).is_ok_and(|area| {
            let attributes = area.object_attributes();
            attributes.fixed_tpm()
                && attributes.fixed_parent()
                && attributes.sensitive_data_origin()
        })
    }

    /// The TPM-wrapped public and private blobs, as stored.
    pub fn blobs(&self) -> (&[u8], &[u8]) {
        (&self.public, &self.private)
    }

    fn saved(&self) -> MutexGuard<'_, Option<TpmsContext>> {
        self.saved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key loaded in `context`: from its saved context when there is one that still
    /// loads, else from its blobs under a freshly derived parent (then its context is saved
    /// for the next time). The caller flushes the handle.
    fn load_into(
        &self,
        context: &mut Context,
        saved: &mut Option<TpmsContext>,
    ) -> Result<KeyHandle, Failure> {
        if let Some(kept) = saved.clone() {
            match context.context_load(kept) {
                Ok(handle) => return Ok(handle.into()),
                // The caller's one retry tries the same saved context.
                Err(error) if is_busy(&error) => return Err(Failure::Tpm(error)),
                Err(error) => {
                    tracing::info!(%error, "the saved TPM key context no longer loads; loading the key from its blobs");
                    *saved = None;
                }
            }
        }
        let public = Public::unmarshall(&self.public)?;
        let private = Private::try_from(self.private.clone())?;
        let parent = context
            .create_primary(
                Hierarchy::Owner,
                storage_primary_template()?,
                None,
                None,
                None,
                None,
            )?
            .key_handle;
        let loaded = context.load(parent, private, public);
        flush(context, parent);
        let key = loaded.map_err(Failure::Load)?;
        match context.context_save(key.into()) {
            Ok(kept) => *saved = Some(kept),
            // Only the speed-up is lost: the next signature loads from the blobs again.
            Err(error) => tracing::warn!(%error, "could not save the TPM key's context"),
        }
        Ok(key)
    }

    /// Opens the TPM, loads the key, runs `body` with it and flushes it, whatever `body` did.
    fn with_key<T>(
        &self,
        body: impl FnOnce(&mut Context, KeyHandle) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let mut saved = self.saved();
        let mut context = open(&self.tcti)?;
        // TPM 2.0 Part 1 §19.8.4: the owner hierarchy and these keys have an empty auth
        // value, so every command uses the password session with it.
        context.execute_with_session(Some(AuthSession::Password), |context| {
            let key = self.load_into(context, &mut saved)?;
            let result = body(context, key);
            flush(context, key);
            result
        })
    }

    fn sign_once(&self, signing_input: &[u8]) -> Result<Es256Signature, Failure> {
        let hash = Digest::try_from(digest(&SHA256, signing_input).as_ref().to_vec())?;
        let signature = self.with_key(|context, key| {
            Ok(context.sign(key, hash, ecdsa_sha256(), null_ticket()?)?)
        })?;
        match signature {
            Signature::EcDsa(ecdsa) => {
                es256_from_scalars(ecdsa.signature_r().value(), ecdsa.signature_s().value())
                    .map_err(Failure::Key)
            }
            _ => Err(Failure::Key(DeviceKeyError::Sign)),
        }
    }
}

/// TPM 2.0 Part 2 §6.6.3: a TPM that answers "retry" or "out of memory" (another process is
/// using it, or it is still testing itself) gets one more try; every other failure, and a
/// second busy answer, is returned as it is.
fn retry_once_when_busy<T>(mut attempt: impl FnMut() -> Result<T, Failure>) -> Result<T, Failure> {
    match attempt() {
        Err(failure) if failure.is_busy() => {
            tracing::info!("the TPM was busy; trying once more");
            attempt()
        }
        other => other,
    }
}

impl DeviceSigner for TpmKey {
    fn public_point(&self) -> &PublicPoint {
        &self.point
    }

    /// A busy TPM gets one more try ([`retry_once_when_busy`]).
    fn sign(&self, signing_input: &[u8]) -> Result<Es256Signature, DeviceKeyError> {
        retry_once_when_busy(|| self.sign_once(signing_input))
            .map_err(|failure| failure.into_error(DeviceKeyError::Sign))
    }

    /// Loads the key (and keeps its context for the signatures that follow): a TPM that was
    /// cleared or replaced refuses here, before any request is built.
    fn check_available(&self) -> Result<(), DeviceKeyError> {
        retry_once_when_busy(|| self.with_key(|_, _| Ok(())))
            .map_err(|failure| failure.into_error(DeviceKeyError::Sign))
    }

    /// Two TPM-wrapped blobs, base64url: no private key, and nothing another TPM can load.
    fn stored_form(&self) -> Secret {
        Secret::new(
            json!({ "tpm": {
                "public": URL_SAFE_NO_PAD.encode(&self.public),
                "private": URL_SAFE_NO_PAD.encode(&self.private),
            }})
            .to_string(),
        )
    }

    fn holder(&self) -> KeyHolder {
        KeyHolder::Tpm
    }
}

/// Whether this process's TPM can be used: opened, and its storage parent made. `auto` asks
/// this before choosing; `tpm` gets the error, which says how to fix it.
pub fn probe() -> Result<(), DeviceKeyError> {
    probe_on(&process_tcti())
}

/// The same, for the TPM at `tcti`.
pub fn probe_on(tcti: &str) -> Result<(), DeviceKeyError> {
    with_parent(tcti, |_, _| Ok::<(), Failure>(()))
        .map_err(|failure| failure.into_error(DeviceKeyError::Generate))
}

/// Why a TPM operation failed, before it is told to the user.
#[derive(Debug)]
enum Failure {
    /// No connection to the TPM; the text says which and why.
    Open(DeviceKeyError),
    /// TPM2_Load refused the stored blobs.
    Load(tss_esapi::Error),
    /// Any other TPM or TSS error.
    Tpm(tss_esapi::Error),
    /// The TPM answered, but not with a P-256 ECDSA signature.
    Key(DeviceKeyError),
}

impl From<tss_esapi::Error> for Failure {
    fn from(error: tss_esapi::Error) -> Self {
        Self::Tpm(error)
    }
}

impl Failure {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Load(e) | Self::Tpm(e) if is_busy(e))
    }

    /// A failure of the TPM itself in `during`'s terms. A load refused for any reason but a
    /// busy TPM means the blobs do not belong to this TPM's storage parent: the TPM was cleared
    /// or replaced, or the entry was copied from another computer.
    fn into_error(self, during: DeviceKeyError) -> DeviceKeyError {
        match self {
            Self::Open(error) | Self::Key(error) => error,
            Self::Load(error) if !is_busy(&error) => {
                tracing::warn!(%error, "the TPM refused to load this device's key");
                DeviceKeyError::NoLongerAvailable
            }
            Self::Load(error) | Self::Tpm(error) => {
                tracing::warn!(%error, during = %during, "TPM operation failed");
                DeviceKeyError::Tpm(crate::text::sanitize(&error.to_string(), 200))
            }
        }
    }
}

fn tpm_failed(what: &str, error: tss_esapi::Error) -> DeviceKeyError {
    DeviceKeyError::Tpm(crate::text::sanitize(&format!("{what}: {error}"), 200))
}

/// TPM 2.0 Part 2 §6.6.3 warnings that say "not now" rather than "no".
fn is_busy(error: &tss_esapi::Error) -> bool {
    let tss_esapi::Error::Tss2Error(code) = error else {
        return false;
    };
    matches!(
        code.kind(),
        Some(
            Tss2ResponseCodeKind::Retry
                | Tss2ResponseCodeKind::Yielded
                | Tss2ResponseCodeKind::Testing
                | Tss2ResponseCodeKind::Canceled
                | Tss2ResponseCodeKind::Memory
                | Tss2ResponseCodeKind::ObjectMemory
                | Tss2ResponseCodeKind::SessionMemory
                | Tss2ResponseCodeKind::ObjectHandles
                | Tss2ResponseCodeKind::SessionHandles
        )
    )
}

/// Opens the TPM at `tcti`, creates the storage parent, runs `body` with it under an empty
/// password authorization (TPM 2.0 Part 1 §19.8.4: the owner hierarchy and these keys have no
/// auth value), and flushes the parent whatever `body` did.
fn with_parent<T, E>(
    tcti: &str,
    body: impl FnOnce(&mut Context, KeyHandle) -> Result<T, E>,
) -> Result<T, Failure>
where
    Failure: From<E>,
{
    let mut context = open(tcti)?;
    context.execute_with_session(Some(AuthSession::Password), |context| {
        let template = storage_primary_template()?;
        let parent = context
            .create_primary(Hierarchy::Owner, template, None, None, None, None)?
            .key_handle;
        let result = body(context, parent).map_err(Failure::from);
        flush(context, parent);
        result
    })
}

/// Flushing can only fail for a handle already gone; the connection closes right after.
fn flush(context: &mut Context, key: KeyHandle) {
    if let Err(error) = context.flush_context(key.into()) {
        tracing::warn!(%error, "could not flush a transient TPM object");
    }
}

/// A connection to the TPM. For the device TCTI the device node is checked first, so a
/// missing TPM and one the user may not open (the `tss` group) each get a message that says
/// what to do.
fn open(tcti: &str) -> Result<Context, Failure> {
    let conf = tcti::parse(tcti).map_err(Failure::Open)?;
    if let Some(path) = device_path(tcti) {
        if let Err(error) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
        {
            return Err(Failure::Open(match error.kind() {
                std::io::ErrorKind::NotFound => DeviceKeyError::TpmMissing(path),
                std::io::ErrorKind::PermissionDenied => DeviceKeyError::TpmNotAccessible(path),
                _ => DeviceKeyError::Tpm(format!("{path}: {error}")),
            }));
        }
    }
    let context = Context::new(conf).map_err(|error| {
        Failure::Open(DeviceKeyError::Tpm(crate::text::sanitize(
            &format!("cannot reach the TPM at {tcti}: {error}"),
            200,
        )))
    })?;
    sockets_close_on_exec();
    Ok(context)
}

/// tpm2-tss opens the TPM's device node or socket without close-on-exec, so every process
/// this one starts while a connection is open (a browser, a helper) would inherit it and keep
/// it open for its whole life. A TPM that serves one connection at a time (a software TPM over
/// TCP, `/dev/tpm0` without the resource manager) then waits on that copy forever. So right
/// after a connection is opened, every socket and TPM device node of this process is marked
/// close-on-exec. Only the new connection needs it, but its descriptor cannot be told apart by
/// number (another thread may have closed and reused one meanwhile); the others are the Rust
/// standard library's and GLib's, which open theirs close-on-exec already and hand a child
/// what it needs with dup2, which clears the flag.
fn sockets_close_on_exec() {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let target = target.to_string_lossy();
        if fd <= 2 || !(target.starts_with("socket:") || target.starts_with("/dev/tpm")) {
            continue;
        }
        // SAFETY: F_GETFD and F_SETFD read and set one descriptor's flags and touch no memory;
        // a descriptor closed meanwhile makes them fail with EBADF, which is ignored.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// The device node a `device` TCTI opens (`device` alone is `/dev/tpm0`, tpm2-tss's default).
fn device_path(tcti: &str) -> Option<String> {
    let rest = tcti.strip_prefix("device")?;
    match rest.strip_prefix(':') {
        Some(path) if !path.is_empty() => Some(path.to_owned()),
        Some(_) => Some("/dev/tpm0".to_owned()),
        None if rest.is_empty() => Some("/dev/tpm0".to_owned()),
        // `devicefoo`: not the device TCTI; tpm2-tss will say so.
        None => None,
    }
}

/// The storage parent: an ECC P-256 restricted decryption key with AES-128-CFB, the SRK
/// template of the TCG TPM v2.0 Provisioning Guidance (§7.5.1) with an empty `unique`. Fixed,
/// so the same TPM always derives the same key from its owner seed.
fn storage_primary_template() -> Result<Public, tss_esapi::Error> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_sensitive_data_origin(true)
        .with_user_with_auth(true)
        .with_no_da(true)
        .with_restricted(true)
        .with_decrypt(true)
        .build()?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::Ecc)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_ecc_parameters(
            PublicEccParametersBuilder::new_restricted_decryption_key(
                SymmetricDefinitionObject::AES_128_CFB,
                EccCurve::NistP256,
            )
            .build()?,
        )
        .with_ecc_unique_identifier(EccPoint::default())
        .build()
}

/// The device key: ECC P-256, ECDSA with SHA-256 only, unrestricted (it signs digests made
/// outside the TPM), `fixedTPM` and `fixedParent` (TPM 2.0 Part 1 §27.2.3: it can never be
/// duplicated out of this TPM), `sensitiveDataOrigin` (the TPM made the private key).
fn signing_key_template() -> Result<Public, tss_esapi::Error> {
    create_unrestricted_signing_ecc_public(
        EccScheme::EcDsa(HashScheme::new(HashingAlgorithm::Sha256)),
        EccCurve::NistP256,
    )
}

fn ecdsa_sha256() -> SignatureScheme {
    SignatureScheme::EcDsa {
        hash_scheme: HashScheme::new(HashingAlgorithm::Sha256),
    }
}

/// TPM2_Sign of an unrestricted key takes a NULL ticket (Part 3 §20.2.1: a ticket is needed
/// only to sign with a restricted key).
fn null_ticket() -> Result<HashcheckTicket, tss_esapi::Error> {
    HashcheckTicket::try_from(TPMT_TK_HASHCHECK {
        tag: TPM2_ST_HASHCHECK,
        hierarchy: TPM2_RH_NULL,
        digest: Default::default(),
    })
}

/// The uncompressed point of a P-256 public area (TPMS_ECC_POINT, Part 2 §11.2.5.2), whose
/// coordinates a TPM may send without leading zero bytes.
fn ecc_p256_point(area: &Public) -> Option<PublicPoint> {
    let Public::Ecc {
        parameters, unique, ..
    } = area
    else {
        return None;
    };
    if parameters.ecc_curve() != EccCurve::NistP256 {
        return None;
    }
    let mut point = [0u8; 65];
    point[0] = 4;
    for (start, coordinate) in [(1, unique.x().value()), (33, unique.y().value())] {
        if coordinate.is_empty() || coordinate.len() > 32 {
            return None;
        }
        point[start + 32 - coordinate.len()..start + 32].copy_from_slice(coordinate);
    }
    Some(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_tcti_names_the_node_it_opens() {
        assert_eq!(device_path(DEFAULT_TCTI).as_deref(), Some("/dev/tpmrm0"));
        assert_eq!(device_path("device").as_deref(), Some("/dev/tpm0"));
        assert_eq!(device_path("swtpm:host=127.0.0.1,port=2321"), None);
    }

    #[test]
    fn a_missing_device_is_named_with_the_fix() {
        let error = probe_on("device:/nonexistent/tpmrm0").unwrap_err();
        assert_eq!(
            error,
            DeviceKeyError::TpmMissing("/nonexistent/tpmrm0".to_owned())
        );
        assert!(error.to_string().contains("\"software\""), "{error}");
    }

    #[test]
    fn a_tpm_connection_is_not_inherited_by_processes_this_one_starts() {
        // A socket as tpm2-tss opens it: without close-on-exec.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
        assert!(fd > 2);
        sockets_close_on_exec();
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        unsafe { libc::close(fd) };
        assert_ne!(flags & libc::FD_CLOEXEC, 0);
    }

    /// What a TPM answers when another process holds it (TPM 2.0 Part 2 §6.6.3).
    fn busy() -> Failure {
        use tss_esapi::constants::response_code::Tss2ResponseCode;
        Failure::Tpm(tss_esapi::Error::Tss2Error(Tss2ResponseCode::from(
            tss_esapi::constants::tss::TPM2_RC_RETRY,
        )))
    }

    #[test]
    fn a_busy_tpm_is_asked_once_more_and_then_answers() {
        let mut attempts = 0;
        let signed = retry_once_when_busy(|| {
            attempts += 1;
            if attempts == 1 {
                Err(busy())
            } else {
                Ok("signature")
            }
        });
        assert_eq!(signed.unwrap(), "signature");
        assert_eq!(attempts, 2);
    }

    #[test]
    fn a_tpm_busy_twice_is_a_clear_error_after_one_retry() {
        let mut attempts = 0;
        let failure = retry_once_when_busy(|| -> Result<(), Failure> {
            attempts += 1;
            Err(busy())
        })
        .unwrap_err();
        assert_eq!(attempts, 2, "one retry, no more");
        let error = failure.into_error(DeviceKeyError::Sign);
        assert!(
            matches!(&error, DeviceKeyError::Tpm(text) if !text.is_empty()),
            "{error:?}"
        );
        // Not the lost key: the registration and the tokens are kept.
        assert_eq!(
            crate::Error::from(error).kind(),
            crate::error::ErrorKind::DeviceKeyUnavailable
        );
    }

    #[test]
    fn a_refused_load_is_not_retried_and_means_the_key_is_gone() {
        let mut attempts = 0;
        let failure = retry_once_when_busy(|| -> Result<(), Failure> {
            attempts += 1;
            Err(Failure::Load(tss_esapi::Error::Tss2Error(
                tss_esapi::constants::response_code::Tss2ResponseCode::from(
                    tss_esapi::constants::tss::TPM2_RC_INTEGRITY,
                ),
            )))
        })
        .unwrap_err();
        assert_eq!(attempts, 1);
        assert_eq!(
            failure.into_error(DeviceKeyError::Sign),
            DeviceKeyError::NoLongerAvailable
        );
    }

    #[test]
    fn damaged_blobs_are_unreadable_without_asking_a_tpm() {
        assert_eq!(
            TpmKey::from_blobs_on("device:/nonexistent", b"not a public area", b"").unwrap_err(),
            DeviceKeyError::Unreadable
        );
        assert_eq!(
            TpmKey::from_stored(&json!({ "public": "AAAA" })).unwrap_err(),
            DeviceKeyError::Unreadable
        );
    }
}
