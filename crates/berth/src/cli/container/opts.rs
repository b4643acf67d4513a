//! The flags `run` and `create` share (docker/cli's `containerOptions`), with docker's
//! names, shorthands, defaults and value checks. Boolean flags also take `=true`/`=false`
//! as pflag's do; value flags accept values that start with `-` (`--memory-swap -1`).

use clap::ArgAction;
use serde_json::Value;

use super::network::NetworkAttachment;
use super::values;

#[derive(clap::Args, Debug, Default, Clone)]
pub struct ContainerOptions {
    /// Attach to STDIN, STDOUT or STDERR
    #[arg(short = 'a', long = "attach", value_parser = values::attach_stream)]
    pub attach: Vec<String>,
    /// Add a rule to the cgroup allowed devices list
    #[arg(long = "device-cgroup-rule", value_parser = values::device_cgroup_rule)]
    pub device_cgroup_rules: Vec<String>,
    /// Add a host device to the container
    #[arg(long = "device")]
    pub devices: Vec<String>,
    /// GPU devices to add to the container ('all' to pass all GPUs)
    #[arg(long = "gpus", value_parser = values::gpus)]
    pub gpus: Vec<Value>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_parser = values::env, allow_hyphen_values = true)]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, allow_hyphen_values = true)]
    pub entrypoint: Option<String>,
    /// Add additional groups to join
    #[arg(long = "group-add")]
    pub group_add: Vec<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Container NIS domain name
    #[arg(long)]
    pub domainname: Option<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub interactive: bool,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label", value_parser = values::label)]
    pub labels: Vec<String>,
    /// Read in a line delimited file of labels
    #[arg(long = "label-file")]
    pub label_file: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub read_only: bool,
    /// Restart policy to apply when a container exits
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Signal to stop the container
    #[arg(long = "stop-signal")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout", value_parser = values::go_int, allow_hyphen_values = true)]
    pub stop_timeout: Option<i64>,
    /// Sysctl options
    #[arg(long = "sysctl", value_parser = values::sysctl)]
    pub sysctls: Vec<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub tty: bool,
    /// Ulimit options
    #[arg(long = "ulimit", value_parser = values::ulimit)]
    pub ulimits: Vec<Value>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Automatically remove the container and its associated anonymous volumes when it exits
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub rm: bool,

    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub privileged: bool,
    /// Security Options
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// User namespace to use
    #[arg(long)]
    pub userns: Option<String>,
    /// Cgroup namespace to use (host|private)
    #[arg(long)]
    pub cgroupns: Option<String>,

    /// Add a custom host-to-IP mapping (host:ip)
    #[arg(long = "add-host", value_parser = values::extra_host)]
    pub add_host: Vec<String>,
    /// Set custom DNS servers
    #[arg(long = "dns", value_parser = values::ip_address)]
    pub dns: Vec<String>,
    /// Set DNS options
    #[arg(long = "dns-option", alias = "dns-opt", allow_hyphen_values = true)]
    pub dns_option: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search", value_parser = values::dns_search)]
    pub dns_search: Vec<String>,
    /// Expose a port or a range of ports
    #[arg(long = "expose")]
    pub expose: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long = "ip")]
    pub ip: Option<String>,
    /// IPv6 address (e.g., 2001:db8::33)
    #[arg(long = "ip6")]
    pub ip6: Option<String>,
    /// Add link to another container
    #[arg(long = "link", value_parser = values::link)]
    pub links: Vec<String>,
    /// Container IPv4/IPv6 link-local addresses
    #[arg(long = "link-local-ip")]
    pub link_local_ip: Vec<String>,
    /// Container MAC address (e.g., 92:d0:c6:0a:29:33)
    #[arg(long = "mac-address")]
    pub mac_address: Option<String>,
    /// Publish a container's port(s) to the host
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub publish_all: bool,
    /// Connect a container to a network
    #[arg(long = "network", alias = "net", value_parser = super::network::network)]
    pub network: Vec<NetworkAttachment>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias")]
    pub network_alias: Vec<String>,

    /// Logging driver for the container
    #[arg(long = "log-driver")]
    pub log_driver: Option<String>,
    /// Optional volume driver for the container
    #[arg(long = "volume-driver")]
    pub volume_driver: Option<String>,
    /// Log driver options
    #[arg(long = "log-opt")]
    pub log_opt: Vec<String>,
    /// Storage driver options for the container
    #[arg(long = "storage-opt")]
    pub storage_opt: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long = "tmpfs")]
    pub tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from")]
    pub volumes_from: Vec<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume")]
    pub volumes: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_parser = super::mounts::mount)]
    pub mounts: Vec<Value>,

    /// Command to run to check health
    #[arg(long = "health-cmd", allow_hyphen_values = true)]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s)
    #[arg(long = "health-interval", value_parser = values::go_duration, allow_hyphen_values = true)]
    pub health_interval: Option<i64>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long = "health-retries", value_parser = values::go_int, allow_hyphen_values = true)]
    pub health_retries: Option<i64>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s)
    #[arg(long = "health-timeout", value_parser = values::go_duration, allow_hyphen_values = true)]
    pub health_timeout: Option<i64>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-period", value_parser = values::go_duration, allow_hyphen_values = true)]
    pub health_start_period: Option<i64>,
    /// Time between running the check during the start period (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-interval", value_parser = values::go_duration, allow_hyphen_values = true)]
    pub health_start_interval: Option<i64>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub no_healthcheck: bool,

    /// Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)
    #[arg(long = "blkio-weight", value_parser = values::go_u16, default_value = "0")]
    pub blkio_weight: u16,
    /// Block IO weight (relative device weight)
    #[arg(long = "blkio-weight-device", value_parser = values::weight_device)]
    pub blkio_weight_device: Vec<Value>,
    /// Write the container ID to the file
    #[arg(long)]
    pub cidfile: Option<String>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// CPU count (Windows only)
    #[arg(long = "cpu-count", value_parser = values::go_i64, default_value = "0", hide = true)]
    pub cpu_count: i64,
    /// CPU percent (Windows only)
    #[arg(long = "cpu-percent", value_parser = values::go_i64, default_value = "0", hide = true)]
    pub cpu_percent: i64,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period", value_parser = values::go_i64, default_value = "0", allow_hyphen_values = true)]
    pub cpu_period: i64,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", value_parser = values::go_i64, default_value = "0", allow_hyphen_values = true)]
    pub cpu_quota: i64,
    /// Limit CPU real-time period in microseconds
    #[arg(long = "cpu-rt-period", value_parser = values::go_i64, default_value = "0", allow_hyphen_values = true)]
    pub cpu_rt_period: i64,
    /// Limit CPU real-time runtime in microseconds
    #[arg(long = "cpu-rt-runtime", value_parser = values::go_i64, default_value = "0", allow_hyphen_values = true)]
    pub cpu_rt_runtime: i64,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", value_parser = values::go_i64, default_value = "0", allow_hyphen_values = true)]
    pub cpu_shares: i64,
    /// Number of CPUs
    #[arg(long, value_parser = values::nano_cpus, default_value = "0")]
    pub cpus: i64,
    /// Limit read rate (bytes per second) from a device
    #[arg(long = "device-read-bps", value_parser = values::throttle_bps)]
    pub device_read_bps: Vec<Value>,
    /// Limit read rate (IO per second) from a device
    #[arg(long = "device-read-iops", value_parser = values::throttle_iops)]
    pub device_read_iops: Vec<Value>,
    /// Limit write rate (bytes per second) to a device
    #[arg(long = "device-write-bps", value_parser = values::throttle_bps)]
    pub device_write_bps: Vec<Value>,
    /// Limit write rate (IO per second) to a device
    #[arg(long = "device-write-iops", value_parser = values::throttle_iops)]
    pub device_write_iops: Vec<Value>,
    /// Maximum IO bandwidth limit for the system drive (Windows only)
    #[arg(long = "io-maxbandwidth", value_parser = values::ram_in_bytes, default_value = "0", hide = true)]
    pub io_max_bandwidth: i64,
    /// Maximum IOps limit for the system drive (Windows only)
    #[arg(long = "io-maxiops", value_parser = values::go_u64, default_value = "0", hide = true)]
    pub io_max_iops: u64,
    /// Kernel memory limit
    #[arg(long = "kernel-memory", value_parser = values::ram_in_bytes, default_value = "0")]
    pub kernel_memory: i64,
    /// Memory limit
    #[arg(short = 'm', long, value_parser = values::ram_in_bytes, default_value = "0")]
    pub memory: i64,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_parser = values::ram_in_bytes, default_value = "0")]
    pub memory_reservation: i64,
    /// Swap limit equal to memory plus swap: '-1' to enable unlimited swap
    #[arg(long = "memory-swap", value_parser = values::mem_swap, default_value = "0", allow_hyphen_values = true)]
    pub memory_swap: i64,
    /// Tune container memory swappiness (0 to 100)
    #[arg(long = "memory-swappiness", value_parser = values::go_i64, default_value = "-1", allow_hyphen_values = true)]
    pub memory_swappiness: i64,
    /// Disable OOM Killer
    #[arg(long = "oom-kill-disable", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub oom_kill_disable: bool,
    /// Tune host's OOM preferences (-1000 to 1000)
    #[arg(long = "oom-score-adj", value_parser = values::go_int, default_value = "0", allow_hyphen_values = true)]
    pub oom_score_adj: i64,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_parser = values::go_i64, default_value = "0", allow_hyphen_values = true)]
    pub pids_limit: i64,

    /// Optional parent cgroup for the container
    #[arg(long = "cgroup-parent")]
    pub cgroup_parent: Option<String>,
    /// IPC mode to use
    #[arg(long)]
    pub ipc: Option<String>,
    /// Container isolation technology
    #[arg(long)]
    pub isolation: Option<String>,
    /// PID namespace to use
    #[arg(long)]
    pub pid: Option<String>,
    /// Size of /dev/shm
    #[arg(long = "shm-size", value_parser = values::ram_in_bytes, default_value = "0")]
    pub shm_size: i64,
    /// UTS namespace to use
    #[arg(long)]
    pub uts: Option<String>,
    /// Runtime to use for this container
    #[arg(long)]
    pub runtime: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = values::go_bool)]
    pub init: Option<bool>,
    /// Add an annotation to the container (passed through to the OCI runtime)
    #[arg(long = "annotation")]
    pub annotations: Vec<String>,

    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long, default_value = "missing")]
    pub pull: String,
    /// Suppress the pull output
    #[arg(short = 'q', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub quiet: bool,
    /// Set platform if server is multi-platform capable
    #[arg(long, env = "DOCKER_DEFAULT_PLATFORM", hide_env = true)]
    pub platform: Option<String>,
    /// Skip image verification
    #[arg(long = "disable-content-trust", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_parser = values::go_bool)]
    pub disable_content_trust: bool,
    /// Print usage
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,

    /// The image, then the command and its arguments. One list, so that whatever
    /// follows the image belongs to the command (docker stops parsing flags there).
    #[arg(value_name = "IMAGE", required = true, num_args = 1.., trailing_var_arg = true)]
    pub image_and_args: Vec<String>,
}

impl ContainerOptions {
    pub fn image(&self) -> &str {
        self.image_and_args.first().map_or("", String::as_str)
    }

    pub fn args(&self) -> &[String] {
        self.image_and_args.get(1..).unwrap_or_default()
    }
}
