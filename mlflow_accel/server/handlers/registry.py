"""The fast model-registry handlers: registered models, model versions, tags and aliases.

Each does what MLflow's Flask handler of the same name does: the core parses and checks the
request as ``_get_request_message`` would, the server's registry store does the work (MLflow's
own validation of a new version's source included), the webhook MLflow would fire is fired
(``registry_webhooks``), and the core renders the response as ``message_to_json`` does.
``REGISTRY`` maps MLflow's Flask endpoint names to these handlers.
"""

from __future__ import annotations

from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag

from mlflow_accel import _compat
from mlflow_accel._core import render
from mlflow_accel.server.handlers import registry_webhooks as webhooks
from mlflow_accel.server.http.request import FastRequest, page_token, values, values_and_presence

_store = _compat.server_registry_store


# -- registered models ---------------------------------------------------------------------------


def create_registered_model(request: FastRequest) -> dict:
    fields = values("CreateRegisteredModel", request)
    name, tags, description = fields["name"], fields["tags"], fields["description"]
    store = _store()
    registered_model = store.create_registered_model(
        name=name,
        tags=[RegisteredModelTag(key, value) for key, value in tags],
        description=description,
    )
    webhooks.registered_model_created(store, name, tags, description)
    return render.registered_model_response(registered_model)


def get_registered_model(request: FastRequest) -> dict:
    name = values("GetRegisteredModel", request)["name"]
    return render.registered_model_response(_store().get_registered_model(name=name))


def update_registered_model(request: FastRequest) -> dict:
    fields = values("UpdateRegisteredModel", request)
    registered_model = _store().update_registered_model(
        name=fields["name"], description=fields["description"]
    )
    return render.registered_model_response(registered_model)


def rename_registered_model(request: FastRequest) -> dict:
    fields = values("RenameRegisteredModel", request)
    registered_model = _store().rename_registered_model(
        name=fields["name"], new_name=fields["new_name"]
    )
    return render.registered_model_response(registered_model)


def delete_registered_model(request: FastRequest) -> dict:
    _store().delete_registered_model(name=values("DeleteRegisteredModel", request)["name"])
    return render.empty_response()


def search_registered_models(request: FastRequest) -> dict:
    fields = values("SearchRegisteredModels", request)
    found = _store().search_registered_models(
        filter_string=fields["filter"],
        max_results=fields["max_results"],
        order_by=fields["order_by"],
        page_token=page_token(fields),
    )
    return render.search_registered_models_response(found, found.token)


def get_latest_versions(request: FastRequest) -> dict:
    fields = values("GetLatestVersions", request)
    latest = _store().get_latest_versions(name=fields["name"], stages=fields["stages"])
    return render.latest_versions_response(latest)


def set_registered_model_tag(request: FastRequest) -> dict:
    fields = values("SetRegisteredModelTag", request)
    name, key, value = fields["name"], fields["key"], fields["value"]
    store = _store()
    store.set_registered_model_tag(name=name, tag=RegisteredModelTag(key=key, value=value))
    webhooks.registered_model_tag_set(store, name, key, value)
    return render.empty_response()


def delete_registered_model_tag(request: FastRequest) -> dict:
    fields = values("DeleteRegisteredModelTag", request)
    name, key = fields["name"], fields["key"]
    store = _store()
    store.delete_registered_model_tag(name=name, key=key)
    webhooks.registered_model_tag_deleted(store, name, key)
    return render.empty_response()


def set_registered_model_alias(request: FastRequest) -> dict:
    fields = values("SetRegisteredModelAlias", request)
    name, alias, version = fields["name"], fields["alias"], fields["version"]
    store = _store()
    store.set_registered_model_alias(name=name, alias=alias, version=version)
    webhooks.alias_created(store, name, alias, version)
    return render.empty_response()


def delete_registered_model_alias(request: FastRequest) -> dict:
    fields = values("DeleteRegisteredModelAlias", request)
    name, alias = fields["name"], fields["alias"]
    store = _store()
    store.delete_registered_model_alias(name=name, alias=alias)
    webhooks.alias_deleted(store, name, alias)
    return render.empty_response()


def get_model_version_by_alias(request: FastRequest) -> dict:
    fields = values("GetModelVersionByAlias", request)
    model_version = _store().get_model_version_by_alias(name=fields["name"], alias=fields["alias"])
    return render.model_version_response(model_version)


# -- model versions ------------------------------------------------------------------------------


def create_model_version(request: FastRequest) -> dict:
    fields, present = values_and_presence("CreateModelVersion", request)
    name, tags, description = fields["name"], fields["tags"], fields["description"]
    is_prompt = webhooks.is_prompt_request(tags)
    source, run_id, model_id = _compat.resolve_model_version_source(fields, present, is_prompt)
    store = _store()
    model_version = store.create_model_version(
        name=name,
        source=source,
        run_id=run_id,
        run_link=fields["run_link"],
        tags=[ModelVersionTag(key, value) for key, value in tags],
        description=description,
        model_id=model_id,
    )
    if not is_prompt and model_id:
        _compat.server_tracking_store().set_model_versions_tags(
            name=name, version=model_version.version, model_id=model_id
        )
    response = render.model_version_response(model_version)
    webhooks.model_version_created(
        store, name, model_version.version, source, run_id, tags, description
    )
    return response


def get_model_version(request: FastRequest) -> dict:
    fields = values("GetModelVersion", request)
    model_version = _store().get_model_version(name=fields["name"], version=fields["version"])
    return render.model_version_response(model_version)


def update_model_version(request: FastRequest) -> dict:
    fields, present = values_and_presence("UpdateModelVersion", request)
    model_version = _store().update_model_version(
        name=fields["name"],
        version=fields["version"],
        description=fields["description"] if "description" in present else None,
    )
    return render.model_version_response(model_version)


def transition_stage(request: FastRequest) -> dict:
    fields = values("TransitionModelVersionStage", request)
    model_version = _store().transition_model_version_stage(
        name=fields["name"],
        version=fields["version"],
        stage=fields["stage"],
        archive_existing_versions=fields["archive_existing_versions"],
    )
    return render.model_version_response(model_version)


def delete_model_version(request: FastRequest) -> dict:
    fields = values("DeleteModelVersion", request)
    _store().delete_model_version(name=fields["name"], version=fields["version"])
    return render.empty_response()


def get_model_version_download_uri(request: FastRequest) -> dict:
    fields = values("GetModelVersionDownloadUri", request)
    uri = _store().get_model_version_download_uri(name=fields["name"], version=fields["version"])
    return render.download_uri_response(uri)


def search_model_versions(request: FastRequest) -> dict:
    fields = values("SearchModelVersions", request)
    found = _store().search_model_versions(
        filter_string=fields["filter"],
        max_results=fields["max_results"],
        order_by=fields["order_by"],
        page_token=page_token(fields),
    )
    return render.search_model_versions_response(found, found.token)


def set_model_version_tag(request: FastRequest) -> dict:
    fields = values("SetModelVersionTag", request)
    name, version, key, value = fields["name"], fields["version"], fields["key"], fields["value"]
    store = _store()
    store.set_model_version_tag(
        name=name, version=version, tag=ModelVersionTag(key=key, value=value)
    )
    webhooks.model_version_tag_set(store, name, version, key, value)
    return render.empty_response()


def delete_model_version_tag(request: FastRequest) -> dict:
    fields = values("DeleteModelVersionTag", request)
    name, version, key = fields["name"], fields["version"], fields["key"]
    store = _store()
    store.delete_model_version_tag(name=name, version=version, key=key)
    webhooks.model_version_tag_deleted(store, name, version, key)
    return render.empty_response()


#: MLflow's Flask endpoint name -> our handler.
REGISTRY = {
    "_create_registered_model": create_registered_model,
    "_get_registered_model": get_registered_model,
    "_update_registered_model": update_registered_model,
    "_rename_registered_model": rename_registered_model,
    "_delete_registered_model": delete_registered_model,
    "_search_registered_models": search_registered_models,
    "_get_latest_versions": get_latest_versions,
    "_set_registered_model_tag": set_registered_model_tag,
    "_delete_registered_model_tag": delete_registered_model_tag,
    "_set_registered_model_alias": set_registered_model_alias,
    "_delete_registered_model_alias": delete_registered_model_alias,
    "_get_model_version_by_alias": get_model_version_by_alias,
    "_create_model_version": create_model_version,
    "_get_model_version": get_model_version,
    "_update_model_version": update_model_version,
    "_transition_stage": transition_stage,
    "_delete_model_version": delete_model_version,
    "_get_model_version_download_uri": get_model_version_download_uri,
    "_search_model_versions": search_model_versions,
    "_set_model_version_tag": set_model_version_tag,
    "_delete_model_version_tag": delete_model_version_tag,
}
