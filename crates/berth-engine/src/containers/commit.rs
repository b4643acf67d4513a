//! `POST /commit` (`docker commit`), as moby's `CreateImageFromContainer`: the container's
//! writable layer (frozen while it is read, unless `pause=false`) becomes a layer on top of
//! its image; the new image's config is the request's (or the container's) with the
//! Dockerfile-style changes applied, then merged with the container's; history and
//! `container_config` record where it came from; a `container commit` event follows.

use std::collections::BTreeMap;
use std::sync::Arc;

use berth_api::events::event_type;
use berth_api::models::ContainerConfig;
use berth_core::{ErrorKind, Reference};
use berth_image::CommitOptions;
use serde_json::{json, Value};

use super::create::{event_attributes, merge};
use super::record::Status;
use super::{internal, lifecycle};
use crate::error::EngineError;
use crate::Engine;

/// The query and body of `POST /commit`.
#[derive(Debug, Clone, Default)]
pub struct CommitRequest {
    pub container: String,
    pub repo: String,
    pub tag: String,
    pub comment: String,
    pub author: String,
    /// Freeze a running container while its layer is read (the API's default).
    pub pause: bool,
    /// Dockerfile instructions (`CMD`, `ENV`, ...).
    pub changes: Vec<String>,
    /// The body: the new image's config before the merge; None: the container's.
    pub config: Option<ContainerConfig>,
}

/// moby's `RepoTagReference`: no repo, no tag; a tag defaults to `latest`.
fn target_reference(repo: &str, tag: &str) -> Result<Option<Reference>, EngineError> {
    if repo.is_empty() {
        return Ok(None);
    }
    let invalid = |e: berth_core::ReferenceError| EngineError::InvalidParameter(e.to_string());
    let r = Reference::parse_normalized(repo).map_err(invalid)?;
    if r.digest().is_some() {
        return Err(EngineError::InvalidParameter(
            "cannot import digest reference".to_owned(),
        ));
    }
    Ok(Some(if tag.is_empty() {
        r.with_default_tag()
    } else {
        r.with_tag(tag).map_err(invalid)?
    }))
}

/// The fields Go writes for a `container.Config` whatever their value (the others are
/// `omitempty`), so the image config reads as dockerd's.
fn go_config(cfg: &ContainerConfig) -> Value {
    let mut out = json!({
        "Hostname": "", "Domainname": "", "User": "", "AttachStdin": false,
        "AttachStdout": false, "AttachStderr": false, "Tty": false, "OpenStdin": false,
        "StdinOnce": false, "Env": null, "Cmd": null, "Image": "", "Volumes": null,
        "WorkingDir": "", "Entrypoint": null, "OnBuild": null, "Labels": null,
    });
    if let (Some(base), Ok(Value::Object(set))) = (out.as_object_mut(), serde_json::to_value(cfg)) {
        base.extend(set);
    }
    out
}

/// The config the new image gets: `base` with `changes` applied, then the container's
/// values wherever it leaves a gap (moby's `BuildFromConfig` then `merge`).
fn image_config(
    base: ContainerConfig,
    changes: &[String],
    container: &ContainerConfig,
) -> Result<ContainerConfig, EngineError> {
    let mut cfg = base;
    if !changes.is_empty() {
        let Value::Object(mut map) =
            serde_json::to_value(&cfg).map_err(|e| internal(e.to_string()))?
        else {
            return Err(internal("container config is not an object"));
        };
        berth_image::apply_changes(&mut map, changes)
            .map_err(|e| EngineError::InvalidParameter(e.to_string()))?;
        cfg = serde_json::from_value(Value::Object(map))
            .map_err(|e| EngineError::InvalidParameter(e.to_string()))?;
    }
    merge(&mut cfg, container);
    Ok(cfg)
}

/// Commits the container; returns the new image ID (`sha256:…`).
pub async fn commit(engine: &Arc<Engine>, req: CommitRequest) -> Result<String, EngineError> {
    let reference = target_reference(&req.repo, &req.tag)?;
    let c = engine.containers.get(&req.container)?;
    let rec = c.snapshot();
    match rec.state.status {
        Status::Dead => {
            return Err(EngineError::Other(
                ErrorKind::Conflict,
                format!("You cannot commit container {} which is Dead", rec.id),
            ))
        }
        Status::Removing => {
            return Err(EngineError::Other(
                ErrorKind::Conflict,
                format!(
                    "You cannot commit container {} which is being removed",
                    rec.id
                ),
            ))
        }
        _ => {}
    }
    let config = image_config(
        req.config.clone().unwrap_or_else(|| rec.config.clone()),
        &req.changes,
        &rec.config,
    )?;
    // As moby: pause (events and all) unless asked not to, and unpause at the very end.
    let paused_here = req.pause
        && rec.state.status == Status::Running
        && lifecycle::pause(engine, &rec.id).await.is_ok();
    let result = commit_paused(engine, &rec, config, &req, reference).await;
    if paused_here {
        if let Err(e) = lifecycle::unpause(engine, &rec.id).await {
            tracing::warn!(container = %rec.id, error = %e, "unpause after commit");
        }
    }
    result
}

async fn commit_paused(
    engine: &Arc<Engine>,
    rec: &super::ContainerRecord,
    config: ContainerConfig,
    req: &CommitRequest,
    reference: Option<Reference>,
) -> Result<String, EngineError> {
    // As moby: the container's image must still be there to commit on top of it.
    let parent = Some(engine.images.resolve(&rec.image)?.id);
    let opts = CommitOptions {
        parent,
        author: req.author.clone(),
        comment: req.comment.clone(),
        config: go_config(&config),
        container_config: go_config(&rec.config),
        container_id: rec.id.clone(),
        created_by: rec.config.cmd.clone().unwrap_or_default().join(" "),
        os: "linux".to_owned(),
    };
    let e2 = engine.clone();
    let key = rec.id.clone();
    let id = tokio::task::spawn_blocking(move || -> Result<String, EngineError> {
        let store = e2.images.store();
        let diff_id = store.put_layer(&mut |w| {
            e2.images
                .layers()
                .diff(&key, &super::changes::init_paths(), w)
                .map(drop)
                .map_err(std::io::Error::other)
        })?;
        Ok(store.commit(&diff_id, &opts)?.to_string())
    })
    .await
    .map_err(|e| internal(e.to_string()))??;

    let image_ref = match &reference {
        Some(r) => {
            engine
                .images
                .tag(&engine.events, &id, &r.familiar_string())?;
            r.familiar_string()
        }
        None => String::new(),
    };
    let image = rec.config.image.clone().unwrap_or_default();
    let mut attrs: BTreeMap<String, String> = event_attributes(rec, &image);
    attrs.insert("comment".into(), req.comment.clone());
    attrs.insert("imageID".into(), id.clone());
    attrs.insert("imageRef".into(), image_ref);
    engine
        .events
        .publish(event_type::CONTAINER, "commit", rec.id.clone(), attrs);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(v: Value) -> ContainerConfig {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn changes_apply_then_the_container_fills_the_gaps() {
        let container = cfg(json!({
            "Hostname": "abc", "Env": ["PATH=/bin", "A=1"], "Cmd": ["sh"],
            "Image": "busybox", "Labels": {"l": "1"}, "WorkingDir": "/w",
        }));
        let got = image_config(
            container.clone(),
            &[r#"CMD ["cat", "/x"]"#.into(), "ENV A=2".into()],
            &container,
        )
        .unwrap();
        assert_eq!(got.cmd, Some(vec!["cat".into(), "/x".into()]));
        let env = got.env.clone().unwrap();
        assert!(env.contains(&"A=2".to_owned()) && !env.contains(&"A=1".to_owned()));
        assert!(env.contains(&"PATH=/bin".to_owned()));
        assert_eq!(got.hostname.as_deref(), Some("abc"));

        // An empty body config: everything but the changes comes from the container.
        let got = image_config(
            ContainerConfig::default(),
            &["LABEL x=y".into()],
            &container,
        )
        .unwrap();
        assert_eq!(got.cmd, Some(vec!["sh".into()]));
        assert_eq!(got.working_dir.as_deref(), Some("/w"));
        let labels = got.labels.unwrap();
        assert_eq!(labels["x"], "y");
        assert_eq!(labels["l"], "1");

        let err = image_config(container.clone(), &["RUN true".into()], &container).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    }

    #[test]
    fn references_follow_moby() {
        assert!(target_reference("", "x").unwrap().is_none());
        let r = target_reference("Repo", "").unwrap_err();
        assert_eq!(r.kind(), ErrorKind::InvalidParameter);
        assert_eq!(
            target_reference("me/app", "")
                .unwrap()
                .unwrap()
                .familiar_string(),
            "me/app:latest"
        );
        assert_eq!(
            target_reference("me/app", "v2")
                .unwrap()
                .unwrap()
                .familiar_string(),
            "me/app:v2"
        );
    }

    #[test]
    fn the_go_form_has_every_non_omitempty_field() {
        let v = go_config(&cfg(json!({"Cmd": ["x"]})));
        assert_eq!(v["Cmd"], json!(["x"]));
        assert_eq!(v["Hostname"], "");
        assert_eq!(v["Entrypoint"], Value::Null);
    }
}
