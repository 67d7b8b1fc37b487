"""The webhook events MLflow's registry handlers fire, fired the same way by ours.

Every registry write MLflow's server performs ends in ``deliver_webhook`` with an event and a
payload that depend on whether the model is a prompt (a registered model tagged
``mlflow.prompt.is_prompt``). Our handlers call the functions here after the same writes, with
the same request values, so a webhook receiver sees exactly what stock MLflow sends it.
"""

from __future__ import annotations

from mlflow.entities.model_registry.prompt_version import (
    IS_PROMPT_TAG_KEY,
    PROMPT_TEXT_TAG_KEY,
    PROMPT_TYPE_TAG_KEY,
)
from mlflow.entities.webhook import WebhookAction, WebhookEntity, WebhookEvent
from mlflow.webhooks import types
from mlflow.webhooks.delivery import deliver_webhook

_PROMPT_MARKERS = {IS_PROMPT_TAG_KEY, PROMPT_TYPE_TAG_KEY}


def is_prompt_request(tags) -> bool:
    """Whether a create request's ``(key, value)`` tags make it a prompt (last value wins)."""
    return dict(tags).get(IS_PROMPT_TAG_KEY, "false").lower() == "true"


def is_prompt(store, name) -> bool:
    return store.get_registered_model(name=name)._is_prompt()


def _fire(store, entity, action, payload) -> None:
    deliver_webhook(event=WebhookEvent(entity, action), payload=payload, store=store)


def registered_model_created(store, name, tags, description) -> None:
    if is_prompt_request(tags):
        payload = types.PromptCreatedPayload(
            name=name,
            tags={k: v for k, v in tags if k not in _PROMPT_MARKERS},
            description=description,
        )
        _fire(store, WebhookEntity.PROMPT, WebhookAction.CREATED, payload)
    else:
        payload = types.RegisteredModelCreatedPayload(
            name=name, tags=dict(tags), description=description
        )
        _fire(store, WebhookEntity.REGISTERED_MODEL, WebhookAction.CREATED, payload)


def model_version_created(store, name, version, source, run_id, tags, description) -> None:
    if is_prompt_request(tags):
        tag_values = dict(tags)
        template = tag_values.pop(PROMPT_TEXT_TAG_KEY, None)
        for marker in _PROMPT_MARKERS:
            tag_values.pop(marker, None)
        payload = types.PromptVersionCreatedPayload(
            name=name,
            version=str(version),
            template=template,
            tags=tag_values,
            description=description or None,
        )
        _fire(store, WebhookEntity.PROMPT_VERSION, WebhookAction.CREATED, payload)
    else:
        payload = types.ModelVersionCreatedPayload(
            name=name,
            version=str(version),
            source=source,
            run_id=run_id or None,
            tags=dict(tags),
            description=description or None,
        )
        _fire(store, WebhookEntity.MODEL_VERSION, WebhookAction.CREATED, payload)


def registered_model_tag_set(store, name, key, value) -> None:
    if is_prompt(store, name):
        payload = types.PromptTagSetPayload(name=name, key=key, value=value)
        _fire(store, WebhookEntity.PROMPT_TAG, WebhookAction.SET, payload)


def registered_model_tag_deleted(store, name, key) -> None:
    if is_prompt(store, name):
        payload = types.PromptTagDeletedPayload(name=name, key=key)
        _fire(store, WebhookEntity.PROMPT_TAG, WebhookAction.DELETED, payload)


def model_version_tag_set(store, name, version, key, value) -> None:
    fields = {"name": name, "version": version, "key": key, "value": value}
    if is_prompt(store, name):
        payload = types.PromptVersionTagSetPayload(**fields)
        _fire(store, WebhookEntity.PROMPT_VERSION_TAG, WebhookAction.SET, payload)
    else:
        payload = types.ModelVersionTagSetPayload(**fields)
        _fire(store, WebhookEntity.MODEL_VERSION_TAG, WebhookAction.SET, payload)


def model_version_tag_deleted(store, name, version, key) -> None:
    fields = {"name": name, "version": version, "key": key}
    if is_prompt(store, name):
        payload = types.PromptVersionTagDeletedPayload(**fields)
        _fire(store, WebhookEntity.PROMPT_VERSION_TAG, WebhookAction.DELETED, payload)
    else:
        payload = types.ModelVersionTagDeletedPayload(**fields)
        _fire(store, WebhookEntity.MODEL_VERSION_TAG, WebhookAction.DELETED, payload)


def alias_created(store, name, alias, version) -> None:
    fields = {"name": name, "alias": alias, "version": version}
    if is_prompt(store, name):
        payload = types.PromptAliasCreatedPayload(**fields)
        _fire(store, WebhookEntity.PROMPT_ALIAS, WebhookAction.CREATED, payload)
    else:
        payload = types.ModelVersionAliasCreatedPayload(**fields)
        _fire(store, WebhookEntity.MODEL_VERSION_ALIAS, WebhookAction.CREATED, payload)


def alias_deleted(store, name, alias) -> None:
    fields = {"name": name, "alias": alias}
    if is_prompt(store, name):
        payload = types.PromptAliasDeletedPayload(**fields)
        _fire(store, WebhookEntity.PROMPT_ALIAS, WebhookAction.DELETED, payload)
    else:
        payload = types.ModelVersionAliasDeletedPayload(**fields)
        _fire(store, WebhookEntity.MODEL_VERSION_ALIAS, WebhookAction.DELETED, payload)
