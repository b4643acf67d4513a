//! Writing the few sysctls networking needs.

use std::fs;

use crate::NetError;

/// Sets `/proc/sys/<key>` (e.g. `net/ipv4/ip_forward`) to `value`, writing only when
/// the value differs.
pub(crate) fn set_sysctl(key: &str, value: &str) -> Result<(), NetError> {
    let path = format!("/proc/sys/{key}");
    let err = |source| NetError::Sysctl {
        path: path.clone(),
        source,
    };
    if fs::read_to_string(&path).map_err(err)?.trim() == value {
        return Ok(());
    }
    fs::write(&path, value).map_err(err)
}
