//! The engine: the one owner of daemon state. Handlers hold an `Arc<Engine>` and nothing else.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use crate::containers::{ContainerService, ContainerSettings};
use crate::error::EngineError;
use crate::events::EventsBus;
use crate::fsutil::atomic_write;
use crate::host::HostInfo;
use crate::images::ImageService;

/// What the engine needs from the daemon's configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    pub debug: bool,
    pub labels: Vec<String>,
    pub live_restore: bool,
    pub experimental: bool,
    /// `--cgroup-parent`; None: nested under the daemon's own cgroup.
    pub cgroup_parent: Option<String>,
    /// `--log-driver` and `--log-opt` defaults for new containers.
    pub log_driver: String,
    pub log_opts: std::collections::HashMap<String, String>,
    /// `--default-ipc-mode` for new containers (`private` or `shareable`).
    pub default_ipc_mode: String,
    /// The `berth` binary the daemon runs as `berth shim`.
    pub berth_exe: PathBuf,
    /// The static init program `--init` bind-mounts as /sbin/docker-init.
    pub init_path: Option<PathBuf>,
    /// Bridge, address pools, DNS and firewall options.
    pub network: crate::networks::NetworkConfig,
    /// `--userns-remap` (empty or None: no remapping). With it, `data_root` becomes
    /// `<data-root>/<uid>.<gid>` once the engine is open.
    pub userns_remap: Option<String>,
}

/// The settings `SIGHUP` can change without a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadableSettings {
    pub debug: bool,
    pub labels: Vec<String>,
}

pub struct Engine {
    config: EngineConfig,
    reloadable: RwLock<ReloadableSettings>,
    id: String,
    host: HostInfo,
    pub events: EventsBus,
    pub images: ImageService,
    pub containers: ContainerService,
    pub networks: crate::networks::NetworkService,
    pub volumes: crate::volumes::VolumeService,
    remapped_root: Option<crate::userns::RemappedRoot>,
}

impl Engine {
    /// Opens (creating if needed) the data root and exec root, and loads the engine ID.
    pub fn open(mut config: EngineConfig) -> Result<Self, EngineError> {
        let remapped_root = crate::userns::resolve(config.userns_remap.as_deref().unwrap_or(""))?;
        let id_mapping = remapped_root
            .as_ref()
            .map(|r| r.mapping.clone())
            .unwrap_or_default();
        if let Some(r) = &remapped_root {
            config.data_root = crate::userns::setup_data_root(&config.data_root, &r.mapping)?;
        }
        create_dir_with_mode(&config.data_root, 0o710)?;
        // Traversable, not listable: the API socket's group must reach the socket inside;
        // per-container state goes in 0700 subdirectories.
        create_dir_with_mode(&config.exec_root, 0o711)?;
        let id = load_or_create_id(&config.data_root.join("engine-id"))?;
        let images = ImageService::open_with_ids(&config.data_root, id_mapping.clone())?;
        let containers = ContainerService::open(ContainerSettings {
            data_root: config.data_root.clone(),
            exec_root: config.exec_root.clone(),
            berth_exe: config.berth_exe.clone(),
            init_path: config.init_path.clone(),
            cgroup_parent: config
                .cgroup_parent
                .clone()
                .unwrap_or_else(crate::host::default_cgroup_parent),
            log_driver: config.log_driver.clone(),
            log_opts: config.log_opts.clone(),
            default_ipc_mode: config.default_ipc_mode.clone(),
            id_mapping: id_mapping.clone(),
        })?;
        let networks = crate::networks::NetworkService::open(
            &config.data_root,
            &config.exec_root,
            config.network.clone(),
        );
        let volumes = crate::volumes::VolumeService::open_with_data_owner(
            &config.data_root,
            (!id_mapping.is_empty()).then(|| id_mapping.root_pair()),
        )?;
        Ok(Self {
            images,
            containers,
            networks,
            volumes,
            reloadable: RwLock::new(ReloadableSettings {
                debug: config.debug,
                labels: config.labels.clone(),
            }),
            config,
            id,
            host: HostInfo::read(),
            events: EventsBus::new(),
            remapped_root,
        })
    }

    /// `--userns-remap` as resolved (`user:group` and the mappings), if on.
    pub fn remapped_root(&self) -> Option<&crate::userns::RemappedRoot> {
        self.remapped_root.as_ref()
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn host(&self) -> &HostInfo {
        &self.host
    }

    pub fn settings(&self) -> ReloadableSettings {
        self.reloadable
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Applies reloaded settings and publishes the `daemon reload` event, as dockerd does on
    /// SIGHUP.
    pub fn reload(&self, settings: ReloadableSettings) {
        let mut attrs = BTreeMap::new();
        attrs.insert("debug".to_owned(), settings.debug.to_string());
        attrs.insert(
            "labels".to_owned(),
            format!("[{}]", settings.labels.join(" ")),
        );
        attrs.insert(
            "live-restore".to_owned(),
            self.config.live_restore.to_string(),
        );
        attrs.insert("name".to_owned(), self.host.hostname.clone());
        *self.reloadable.write().unwrap_or_else(|p| p.into_inner()) = settings;
        self.events.publish(
            berth_api::events::event_type::DAEMON,
            "reload",
            self.id.clone(),
            attrs,
        );
    }
}

fn create_dir_with_mode(path: &Path, mode: u32) -> Result<(), EngineError> {
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
    {
        Ok(()) => {}
        Err(e) => return Err(EngineError::io("create directory", path, e)),
    }
    // An existing directory keeps whatever mode it had; enforce ours.
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| EngineError::io("chmod", path, e))
}

/// The daemon's stable identity (`ID` in `info`): a random UUID written once.
fn load_or_create_id(path: &Path) -> Result<String, EngineError> {
    match fs::read_to_string(path) {
        Ok(s) if is_uuid(s.trim()) => return Ok(s.trim().to_owned()),
        Ok(_) => {
            tracing::warn!(path = %path.display(), "engine ID file is malformed; writing a new one")
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(EngineError::io("read", path, e)),
    }
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    let id = format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    );
    atomic_write(path, id.as_bytes(), 0o600).map_err(|e| EngineError::io("write", path, e))?;
    Ok(id)
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> EngineConfig {
        EngineConfig {
            data_root: dir.join("data"),
            exec_root: dir.join("exec"),
            debug: false,
            labels: vec![],
            live_restore: true,
            experimental: false,
            cgroup_parent: Some("/berth-test".into()),
            log_driver: "json-file".into(),
            log_opts: Default::default(),
            default_ipc_mode: "private".into(),
            berth_exe: "/bin/false".into(),
            init_path: None,
            network: Default::default(),
            userns_remap: None,
        }
    }

    #[test]
    fn open_creates_roots_with_modes_and_keeps_the_id() {
        let dir = tempfile::tempdir().unwrap();
        let first = Engine::open(config(dir.path())).unwrap();
        assert!(is_uuid(first.id()));
        let mode = fs::metadata(dir.path().join("data"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o710);
        let again = Engine::open(config(dir.path())).unwrap();
        assert_eq!(first.id(), again.id());
    }

    #[test]
    fn reload_updates_settings_and_publishes_an_event() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(config(dir.path())).unwrap();
        engine.reload(ReloadableSettings {
            debug: true,
            labels: vec!["a=b".into()],
        });
        assert!(engine.settings().debug);
        let sub = engine.events.subscribe(Some(0));
        assert_eq!(sub.backlog.len(), 1);
        assert_eq!(sub.backlog[0].action, "reload");
        assert_eq!(sub.backlog[0].actor.attributes["labels"], "[a=b]");
    }
}
