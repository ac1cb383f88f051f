"""Database: isolated VPC + endpoints, Aurora Serverless v2, secret rotation, RDS Proxy, migrations."""

from __future__ import annotations

import pytest

from infra.cdk import names
from tests.infra.conftest import Stage

pytestmark = pytest.mark.infra


def test_vpc_has_isolated_subnets_and_the_endpoints_functions_need(prod: Stage) -> None:
    template = prod.stateful_template
    endpoints = template.of_type("AWS::EC2::VPCEndpoint").values()
    services = {
        str(e["Properties"]["ServiceName"]).rsplit(".", 1)[-1].strip("'}]\""): e["Properties"].get(
            "VpcEndpointType"
        )
        for e in endpoints
    }
    assert services == {
        "s3": "Gateway",
        "dynamodb": "Gateway",
        "sqs": "Interface",
        "secretsmanager": "Interface",
    }
    isolated = [
        s
        for s in template.of_type("AWS::EC2::Subnet").values()
        if {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in s["Properties"]["Tags"]
    ]
    assert len(isolated) == len(prod.stateful.config.availability_zones)
    assert template.of_type("AWS::EC2::FlowLog")


def test_aurora_is_serverless_v2_postgres_17_encrypted(prod: Stage) -> None:
    db = prod.stateful.database
    props = prod.stateful_template.props(db.cluster)
    assert props["Engine"] == "aurora-postgresql"
    assert props["EngineVersion"].startswith("17.")
    assert props["StorageEncrypted"] is True
    assert props["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": prod.stateful.config.aurora_min_acu,
        "MaxCapacity": prod.stateful.config.aurora_max_acu,
    }
    assert props["DatabaseName"] == names.DATABASE_NAME
    instances = prod.stateful_template.of_type("AWS::RDS::DBInstance").values()
    assert {i["Properties"]["DBInstanceClass"] for i in instances} == {"db.serverless"}
    assert len(list(instances)) == 1 + prod.stateful.config.aurora_readers


def test_prod_cluster_is_protected_and_snapshotted_dev_is_disposable(prod: Stage, dev: Stage) -> None:
    prod_cluster = prod.stateful_template.resource(prod.stateful.database.cluster)
    assert prod_cluster["Properties"]["DeletionProtection"] is True
    assert prod_cluster["DeletionPolicy"] == "Snapshot"
    dev_cluster = dev.stateful_template.resource(dev.stateful.database.cluster)
    assert dev_cluster["Properties"]["DeletionProtection"] is False
    assert dev_cluster["DeletionPolicy"] == "Delete"
    # and the secrets go with the data: kept with a kept snapshot (its users' passwords), deleted in dev
    for stage, policy in ((prod, "Retain"), (dev, "Delete")):
        secrets = stage.stateful_template.of_type("AWS::SecretsManager::Secret")
        database = [lid for lid in secrets if "Database" in lid]
        assert len(database) == 3  # master, owner, app
        assert {stage.stateful_template.resources[lid]["DeletionPolicy"] for lid in database} == {policy}

def test_three_database_users_each_with_a_rotated_secret(prod: Stage) -> None:
    # Given the stateful stack's secrets
    template = prod.stateful_template
    db = prod.stateful.database
    secrets = {template.logical_id(s) for s in (db.master_secret, db.owner_secret, db.app_secret)}
    # (each secret as attached to the cluster: host and port added, as the functions read them)
    attachments = template.of_type("AWS::SecretsManager::SecretTargetAttachment")
    assert len(secrets) == 3 and secrets <= set(attachments)
    assert {a["Properties"]["SecretId"]["Ref"] for a in attachments.values()} <= set(
        template.of_type("AWS::SecretsManager::Secret")
    )
    # Then the owner and the app user are generated with their own names (ensure_roles creates them)
    for secret, user in ((db.owner_secret, names.DATABASE_OWNER), (db.app_secret, names.DATABASE_APP_USER)):
        attachment = template.resources[template.logical_id(secret)]["Properties"]
        assert user in str(template.resources[attachment["SecretId"]["Ref"]]["Properties"])
    # And every secret rotates on the stage's schedule (the master rotates the other two)
    schedules = template.of_type("AWS::SecretsManager::RotationSchedule").values()
    rotated = {s["Properties"]["SecretId"]["Ref"] for s in schedules}
    assert rotated == secrets
    for schedule in schedules:
        assert schedule["Properties"]["RotationRules"]["ScheduleExpression"] == (
            f"rate({prod.stateful.config.secret_rotation_days} days)"
        )
    # And the owner's and the app's do not rotate at creation: their users exist once the migrations ran
    users = {template.logical_id(db.owner_secret), template.logical_id(db.app_secret)}
    later = [s["Properties"].get("RotateImmediatelyOnUpdate") for s in schedules
             if s["Properties"]["SecretId"]["Ref"] in users]
    assert later == [False, False]
    # And the functions use the app user's: DML only (tests/integration/test_database_roles.py)
    assert db.secret is db.app_secret


def test_the_proxy_knows_all_three_users(prod: Stage) -> None:
    template = prod.stateful_template
    db = prod.stateful.database
    auth = template.props(db.proxy)["Auth"]
    named = {a["SecretArn"]["Ref"] for a in auth}
    assert named == {template.logical_id(s) for s in (db.master_secret, db.owner_secret, db.app_secret)}
    assert all(a["IAMAuth"] == "DISABLED" and a["AuthScheme"] == "SECRETS" for a in auth)


def test_rds_proxy_requires_tls_and_fronts_the_cluster(prod: Stage) -> None:
    template = prod.stateful_template
    proxy = template.props(prod.stateful.database.proxy)
    assert proxy["EngineFamily"] == "POSTGRESQL"
    assert proxy["RequireTLS"] is True
    (target_group,) = template.of_type("AWS::RDS::DBProxyTargetGroup").values()
    assert target_group["Properties"]["DBClusterIdentifiers"] == [
        {"Ref": template.logical_id(prod.stateful.database.cluster)}
    ]


def test_only_the_proxy_reaches_the_cluster(prod: Stage) -> None:
    template = prod.stateful_template
    db = prod.stateful.database
    cluster_sg = template.props(db.cluster)["VpcSecurityGroupIds"][0]["Fn::GetAtt"][0]
    sources = {
        rule["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0]
        for rule in template.of_type("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [cluster_sg, "GroupId"]}
    }
    allowed = {
        template.logical_id(db.proxy.connections.security_groups[0]),
        *(i for i in template.resources if i.startswith("DatabaseRotationSg")),
    }
    assert sources <= allowed
    assert template.logical_id(db.functions_sg) not in sources
    assert template.logical_id(db.migrations_sg) not in sources  # migrations go through the proxy too


def test_migrations_run_on_deploy_before_the_database_functions(prod: Stage) -> None:
    # Given the migrations trigger of the stateless stack
    template = prod.stateless_template
    migrations = prod.stateless.migrations
    (trigger,) = template.of_type("Custom::Trigger").values()

    # Then it invokes the migrations function (a new version on every code/layer change)
    version = template.resources[trigger["Properties"]["HandlerArn"]["Ref"]]
    assert version["Type"] == "AWS::Lambda::Version"
    assert version["Properties"]["FunctionName"] == {"Ref": template.logical_id(migrations.function)}

    # And it connects through the proxy (TLS verified), with the master, owner and app secrets
    fn = template.props(migrations.function)
    env = fn["Environment"]["Variables"]
    db = prod.stateful.database
    assert set(env) >= {
        names.ENV_DB_SECRET_ARN,
        names.ENV_DB_OWNER_SECRET_ARN,
        names.ENV_DB_MASTER_SECRET_ARN,
        names.ENV_DB_PROXY_ENDPOINT,
        names.ENV_DB_NAME,
    }
    stateful = prod.stateful_template
    for variable, secret in (
        (names.ENV_DB_SECRET_ARN, db.app_secret),
        (names.ENV_DB_OWNER_SECRET_ARN, db.owner_secret),
        (names.ENV_DB_MASTER_SECRET_ARN, db.master_secret),
    ):
        assert stateful.logical_id(secret) in str(env[variable]), variable
    assert fn["Handler"] == "handler.handler"
    assert "VpcConfig" in fn

    # And every function that uses the database waits for it
    trigger_id = next(iter(template.of_type("Custom::Trigger")))
    for name, service in prod.stateless.functions.items():
        depends = template.resource(service.function).get("DependsOn", [])
        assert (trigger_id in depends) == service.spec.needs_database, name
