//! The master-key file, for deployments that do not pass the key in
//! (`LATCHKEY_MASTER_KEY`): created private on first start, refused when others
//! may read it.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use zeroize::Zeroizing;

use super::KeyRingError;
use crate::domain::jws::MasterKey;

/// Reads the master key from `path`, or creates the file (mode 0600) with a
/// fresh key when it does not exist.
///
/// A file that other users may read or write is refused (like ssh with a
/// private key); a group-readable one is accepted with a warning, so a
/// secret volume mounted `0440` with a shared group still works. The file is
/// created complete or not at all: the key is written to a private temporary
/// file that is then hard-linked into place, which fails if the path appeared
/// meanwhile, so two processes starting at once both end with the same key.
pub fn load_or_create_key_file(path: &Path) -> Result<MasterKey, KeyRingError> {
    let fail = |reason: String| KeyRingError::KeyFile {
        path: path.to_owned(),
        reason,
    };
    match fs::metadata(path) {
        Ok(_) => return read_key_file(path).map_err(fail),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e.to_string())),
    }
    let key = MasterKey::generate().map_err(|e| fail(e.to_string()))?;
    let name = path
        .file_name()
        .ok_or_else(|| fail("is not a file name".to_owned()))?;
    let suffix = MasterKey::generate()
        .map_err(|e| fail(e.to_string()))?
        .to_text();
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", &suffix[..12]));
    let temp = path.with_file_name(temp_name);
    let created = write_new(&temp, &key).and_then(|()| fs::hard_link(&temp, path));
    let _ = fs::remove_file(&temp);
    match created {
        Ok(()) => {
            sync_parent(path).map_err(|e| fail(e.to_string()))?;
            tracing::warn!(path = %path.display(), "created a new master key file; back it up: tokens cannot be signed without it");
            Ok(key)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_key_file(path).map_err(fail),
        Err(e) => Err(fail(e.to_string())),
    }
}

fn write_new(path: &Path, key: &MasterKey) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let mut text = key.to_text();
    text.push('\n');
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

fn read_key_file(path: &Path) -> Result<MasterKey, String> {
    let mode = fs::metadata(path)
        .map_err(|e| e.to_string())?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o007 != 0 {
        return Err(format!(
            "other users may access it (mode {mode:03o}); run `chmod 600` on it"
        ));
    }
    if mode & 0o070 != 0 {
        tracing::warn!(path = %path.display(), mode = %format!("{mode:03o}"), "the master key file is readable by its group");
    }
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| e.to_string())?);
    MasterKey::parse(&text)
}
