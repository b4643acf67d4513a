//! `update`: change resource limits and the restart policy of running containers.

use std::process::ExitCode;

use anyhow::Result;
use http::Method;
use serde_json::{json, Value};

use super::status::StatusError;
use super::{encode_id, values};
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug, Default)]
pub struct UpdateArgs {
    /// Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)
    #[arg(long = "blkio-weight", value_parser = values::go_u16)]
    pub blkio_weight: Option<u16>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long = "cpu-period", value_parser = values::go_i64, allow_hyphen_values = true)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long = "cpu-quota", value_parser = values::go_i64, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// Limit the CPU real-time period in microseconds
    #[arg(long = "cpu-rt-period", value_parser = values::go_i64, allow_hyphen_values = true)]
    pub cpu_rt_period: Option<i64>,
    /// Limit the CPU real-time runtime in microseconds
    #[arg(long = "cpu-rt-runtime", value_parser = values::go_i64, allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares", value_parser = values::go_i64, allow_hyphen_values = true)]
    pub cpu_shares: Option<i64>,
    /// Number of CPUs
    #[arg(long, value_parser = values::nano_cpus)]
    pub cpus: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Kernel memory limit (deprecated)
    #[arg(long = "kernel-memory", value_parser = values::ram_in_bytes, hide = true)]
    pub kernel_memory: Option<i64>,
    /// Memory limit
    #[arg(short = 'm', long, value_parser = values::ram_in_bytes)]
    pub memory: Option<i64>,
    /// Memory soft limit
    #[arg(long = "memory-reservation", value_parser = values::ram_in_bytes)]
    pub memory_reservation: Option<i64>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long = "memory-swap", value_parser = values::mem_swap, allow_hyphen_values = true)]
    pub memory_swap: Option<i64>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long = "pids-limit", value_parser = values::go_i64, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

impl UpdateArgs {
    fn any_flag(&self) -> bool {
        self.blkio_weight.is_some()
            || self.cpu_period.is_some()
            || self.cpu_quota.is_some()
            || self.cpu_rt_period.is_some()
            || self.cpu_rt_runtime.is_some()
            || self.cpu_shares.is_some()
            || self.cpus.is_some()
            || self.cpuset_cpus.is_some()
            || self.cpuset_mems.is_some()
            || self.kernel_memory.is_some()
            || self.memory.is_some()
            || self.memory_reservation.is_some()
            || self.memory_swap.is_some()
            || self.pids_limit.is_some()
            || self.restart.is_some()
    }
}

/// The `POST /containers/{id}/update` body: docker's `UpdateConfig` (every resource
/// field, zero when not given) with the restart policy.
pub fn update_config(a: &UpdateArgs) -> Result<Value, String> {
    let restart = match a.restart.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => values::restart_policy(r)?,
        None => json!({"Name": "", "MaximumRetryCount": 0}),
    };
    let pids = a.pids_limit.filter(|p| *p != 0);
    let mut body = json!({
        "CpuShares": a.cpu_shares.unwrap_or(0),
        "Memory": a.memory.unwrap_or(0),
        "NanoCpus": a.cpus.unwrap_or(0),
        "CgroupParent": "",
        "BlkioWeight": a.blkio_weight.unwrap_or(0),
        "BlkioWeightDevice": null,
        "BlkioDeviceReadBps": null,
        "BlkioDeviceWriteBps": null,
        "BlkioDeviceReadIOps": null,
        "BlkioDeviceWriteIOps": null,
        "CpuPeriod": a.cpu_period.unwrap_or(0),
        "CpuQuota": a.cpu_quota.unwrap_or(0),
        "CpuRealtimePeriod": a.cpu_rt_period.unwrap_or(0),
        "CpuRealtimeRuntime": a.cpu_rt_runtime.unwrap_or(0),
        "CpusetCpus": a.cpuset_cpus.as_deref().unwrap_or_default(),
        "CpusetMems": a.cpuset_mems.as_deref().unwrap_or_default(),
        "Devices": null,
        "DeviceCgroupRules": null,
        "DeviceRequests": null,
        "MemoryReservation": a.memory_reservation.unwrap_or(0),
        "MemorySwap": a.memory_swap.unwrap_or(0),
        "MemorySwappiness": null,
        "OomKillDisable": null,
        "PidsLimit": pids,
        "Ulimits": null,
        "CpuCount": 0,
        "CpuPercent": 0,
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
        "RestartPolicy": restart,
    });
    if let Some(k) = a.kernel_memory.filter(|k| *k != 0) {
        body["KernelMemory"] = json!(k);
    }
    Ok(body)
}

pub async fn update(g: &GlobalOptions, args: UpdateArgs) -> Result<ExitCode> {
    if !args.any_flag() {
        anyhow::bail!("you must provide one or more flags when using this command");
    }
    let body = update_config(&args).map_err(anyhow::Error::msg)?;
    let mut client = g.client()?;
    let (mut warnings, mut errors) = (Vec::new(), Vec::new());
    for c in &args.containers {
        let path = format!("/containers/{}/update", encode_id(c));
        match client.request_json(Method::POST, &path, &body).await {
            Ok(res) => {
                println!("{c}");
                let r: Value = serde_json::from_slice(&berth_client::read_body(res).await?)
                    .unwrap_or(Value::Null);
                warnings.extend(
                    r["Warnings"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned),
                );
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !warnings.is_empty() {
        println!("{}", warnings.join("\n"));
    }
    if !errors.is_empty() {
        return Err(StatusError::new(errors.join("\n"), 1).into());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        a: UpdateArgs,
    }

    fn args(a: &[&str]) -> UpdateArgs {
        Wrapper::try_parse_from(std::iter::once("update").chain(a.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"))
            .a
    }

    #[test]
    fn update_body_matches_docker() {
        // What docker 28 sends for `update --cpus 1.5 -m 10m --restart on-failure:3 box`.
        let docker: Value = serde_json::from_str(r#"{"CpuShares":0,"Memory":10485760,"NanoCpus":1500000000,"CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":null,"BlkioDeviceReadBps":null,"BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"BlkioDeviceWriteIOps":null,"CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"","Devices":null,"DeviceCgroupRules":null,"DeviceRequests":null,"MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":null,"PidsLimit":null,"Ulimits":null,"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,"IOMaximumBandwidth":0,"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3}}"#).unwrap();
        let a = args(&[
            "--cpus",
            "1.5",
            "-m",
            "10m",
            "--restart",
            "on-failure:3",
            "box",
        ]);
        assert_eq!(update_config(&a).unwrap(), docker);
        assert_eq!(
            update_config(&args(&["--pids-limit", "5", "box"])).unwrap()["PidsLimit"],
            5
        );
        assert_eq!(
            update_config(&args(&["--pids-limit", "-1", "box"])).unwrap()["PidsLimit"],
            -1
        );
        assert!(!args(&["box"]).any_flag());
    }
}
