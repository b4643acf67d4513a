//! User namespace ID mappings (`--userns-remap`): container IDs ↔ host IDs, as moby's
//! `user.IdentityMapping` translates them. An empty mapping is the identity.

/// One contiguous range: container IDs `container_id..container_id+size` are host IDs
/// `host_id..host_id+size` (a line of `/proc/<pid>/uid_map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdMap {
    pub container_id: u32,
    pub host_id: u32,
    pub size: u32,
}

impl IdMap {
    fn host_of(self, id: u32) -> Option<u32> {
        let off = id.checked_sub(self.container_id)?;
        (off < self.size).then(|| self.host_id.checked_add(off))?
    }

    fn container_of(self, id: u32) -> Option<u32> {
        let off = id.checked_sub(self.host_id)?;
        (off < self.size).then(|| self.container_id.checked_add(off))?
    }
}

/// An ID that has no counterpart on the other side of the mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdMapError {
    #[error("container ID {0} cannot be mapped to a host ID")]
    NoHostId(u32),
    #[error("host ID {0} cannot be mapped to a container ID")]
    NoContainerId(u32),
}

/// The kernel's overflow IDs: what a process in the user namespace sees as the owner of a
/// file whose owner is not mapped (`/proc/sys/kernel/overflowuid`, 65534 by default).
pub const OVERFLOW_ID: u32 = 65534;

/// The UID and GID mappings of a user namespace; empty means no remapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdMapping {
    pub uids: Vec<IdMap>,
    pub gids: Vec<IdMap>,
}

fn lookup(maps: &[IdMap], id: u32, f: impl Fn(IdMap, u32) -> Option<u32>) -> Option<u32> {
    if maps.is_empty() {
        return Some(id);
    }
    maps.iter().find_map(|m| f(*m, id))
}

impl IdMapping {
    pub fn is_empty(&self) -> bool {
        self.uids.is_empty() && self.gids.is_empty()
    }

    /// The host UID and GID of the container's root (0, 0 without remapping).
    pub fn root_pair(&self) -> (u32, u32) {
        (
            lookup(&self.uids, 0, IdMap::host_of).unwrap_or(0),
            lookup(&self.gids, 0, IdMap::host_of).unwrap_or(0),
        )
    }

    /// The host IDs of container IDs `uid`, `gid`.
    pub fn to_host(&self, uid: u32, gid: u32) -> Result<(u32, u32), IdMapError> {
        Ok((
            lookup(&self.uids, uid, IdMap::host_of).ok_or(IdMapError::NoHostId(uid))?,
            lookup(&self.gids, gid, IdMap::host_of).ok_or(IdMapError::NoHostId(gid))?,
        ))
    }

    /// The container IDs of host IDs `uid`, `gid`.
    pub fn to_container(&self, uid: u32, gid: u32) -> Result<(u32, u32), IdMapError> {
        Ok((
            lookup(&self.uids, uid, IdMap::container_of).ok_or(IdMapError::NoContainerId(uid))?,
            lookup(&self.gids, gid, IdMap::container_of).ok_or(IdMapError::NoContainerId(gid))?,
        ))
    }

    /// The container IDs of host IDs `uid`, `gid` as a process in the namespace sees them:
    /// an unmapped ID shows as [`OVERFLOW_ID`].
    pub fn to_container_or_overflow(&self, uid: u32, gid: u32) -> (u32, u32) {
        (
            lookup(&self.uids, uid, IdMap::container_of).unwrap_or(OVERFLOW_ID),
            lookup(&self.gids, gid, IdMap::container_of).unwrap_or(OVERFLOW_ID),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_ranges() -> IdMapping {
        IdMapping {
            uids: vec![
                IdMap {
                    container_id: 0,
                    host_id: 100_000,
                    size: 10,
                },
                IdMap {
                    container_id: 10,
                    host_id: 300_000,
                    size: 5,
                },
            ],
            gids: vec![IdMap {
                container_id: 0,
                host_id: 200_000,
                size: 65536,
            }],
        }
    }

    #[test]
    fn translates_both_ways_across_ranges() {
        let m = two_ranges();
        assert_eq!(m.root_pair(), (100_000, 200_000));
        assert_eq!(m.to_host(3, 7), Ok((100_003, 200_007)));
        assert_eq!(m.to_host(12, 0), Ok((300_002, 200_000)));
        assert_eq!(m.to_container(300_004, 265_535), Ok((14, 65535)));
        assert_eq!(m.to_host(15, 0), Err(IdMapError::NoHostId(15)));
        assert_eq!(m.to_host(0, 65536), Err(IdMapError::NoHostId(65536)));
        assert_eq!(m.to_container(0, 0), Err(IdMapError::NoContainerId(0)));
        assert_eq!(
            m.to_container(0, 0).unwrap_err().to_string(),
            "host ID 0 cannot be mapped to a container ID"
        );
        assert_eq!(
            m.to_host(99, 0).unwrap_err().to_string(),
            "container ID 99 cannot be mapped to a host ID"
        );
        assert_eq!(m.to_container_or_overflow(0, 200_001), (OVERFLOW_ID, 1));
    }

    #[test]
    fn an_empty_mapping_is_the_identity() {
        let m = IdMapping::default();
        assert!(m.is_empty());
        assert_eq!(m.root_pair(), (0, 0));
        assert_eq!(m.to_host(5, 6), Ok((5, 6)));
        assert_eq!(m.to_container(5, 6), Ok((5, 6)));
    }

    #[test]
    fn the_last_id_of_a_range_maps_and_the_next_does_not() {
        let m = IdMapping {
            uids: vec![IdMap {
                container_id: 0,
                host_id: u32::MAX - 9,
                size: 10,
            }],
            gids: vec![],
        };
        assert_eq!(m.to_host(9, 1), Ok((u32::MAX, 1)));
        assert!(m.to_host(10, 1).is_err());
    }
}
