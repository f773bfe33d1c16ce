"""Creates template.yaml's resources in DynamoDB Local and moto, in dependency order, and records
each one's physical ids so later Refs and GetAtts resolve as CloudFormation's would."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

import boto3

from infra.local.template import ACCOUNT_ID, LocalStack, Physical, TemplateError

log = logging.getLogger("provision")

# Nothing to run locally for these; they still get ids so references to them resolve.
RECORDED_ONLY = {
    "AWS::Logs::LogGroup",
    "AWS::SNS::Topic",
    "AWS::CloudWatch::Alarm",
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::HttpApi",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::Lambda::Permission",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    # Alarm delivery, the dashboard and mail events have no local counterpart (docs/runbooks.md).
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::SNS::Subscription",
    "AWS::Logs::MetricFilter",
    "AWS::CloudWatch::Dashboard",
    "AWS::SES::ConfigurationSetEventDestination",  # SES here bounces nothing; tests feed the queue
    "AWS::Events::Rule",
    "AWS::SQS::QueuePolicy",
}


class Provisioner:
    def __init__(self, stack: LocalStack, dynamodb_endpoint: str, aws_endpoint: str) -> None:
        credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": stack.region}
        self.stack = stack
        self.dynamodb = boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, **credentials)
        self._aws_endpoint = aws_endpoint
        self._credentials = credentials
        self._clients: dict[str, Any] = {}
        self._creators: dict[str, Callable[[str, dict[str, Any]], Physical]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::SQS::Queue": self._queue,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
            "AWS::Cognito::UserPoolGroup": self._user_pool_group,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::SES::EmailIdentity": self._email_identity,
            "AWS::SES::ConfigurationSet": self._configuration_set,
            "AWS::Scheduler::Schedule": self._schedule,
        }

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, endpoint_url=self._aws_endpoint, **self._credentials)
        return self._clients[service]

    def create_all(self) -> None:
        for logical_id in self.stack.creation_order():
            kind = self.stack.resources[logical_id]["Type"]
            if kind in self._creators:
                self.stack.physical[logical_id] = self._creators[kind](logical_id, self.stack.properties(logical_id))
            elif kind in RECORDED_ONLY:
                self.stack.physical[logical_id] = self._recorded(logical_id, kind)
            else:
                log.warning("%s (%s) has no local counterpart; references to it will fail", logical_id, kind)
        for spec in self.stack.functions():
            for schedule in spec.schedules:
                self._function_schedule(
                    spec.name, schedule.physical_name, schedule.expression, schedule.timezone, schedule.input
                )

    def create_only(self, logical_ids: list[str]) -> dict[str, Physical]:
        """Just these resources (and nothing they refer to), e.g. one table for a benchmark."""
        for logical_id in logical_ids:
            kind = self.stack.resources[logical_id]["Type"]
            self.stack.physical[logical_id] = self._creators[kind](logical_id, self.stack.properties(logical_id))
        return {logical_id: self.stack.physical[logical_id] for logical_id in logical_ids}

    # ------------------------------------------------------------------ recorded only
    def _recorded(self, logical_id: str, kind: str) -> Physical:
        name = self.stack.physical_name(logical_id)
        region = self.stack.region
        service = kind.split("::")[1].lower()
        arn = f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{name}"
        if kind == "AWS::Logs::LogGroup":
            arn = f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{name}:*"
        if kind == "AWS::Serverless::HttpApi":
            return Physical("local", {"ApiEndpoint": "http://127.0.0.1"})
        if kind == "AWS::CloudFront::Distribution":
            # Only so the template's SiteUrl resolves; locally the gateway serves the site at /app/.
            return Physical(name, {"Arn": arn, "Name": name, "DomainName": f"{name.lower()}.cloudfront.invalid"})
        return Physical(name, {"Arn": arn, "Name": name})

    # ------------------------------------------------------------------ DynamoDB
    def _table(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("TableName") or self.stack.physical_name(logical_id)
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if request["BillingMode"] == "PROVISIONED":
            request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                request[key] = [
                    {k: v for k, v in index.items() if k != "ContributorInsightsSpecification"} for index in props[key]
                ]
        if props.get("StreamSpecification"):
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        description = self.dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            self.dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
            )
        attributes = {"Arn": description["TableArn"]}
        if description.get("LatestStreamArn"):
            attributes["StreamArn"] = description["LatestStreamArn"]
        return Physical(name, attributes)

    # ------------------------------------------------------------------ SQS
    def _queue(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("QueueName") or self.stack.physical_name(logical_id) + (
            ".fifo" if props.get("FifoQueue") else ""
        )
        attributes: dict[str, str] = {}
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "MaximumMessageSize",
            "FifoQueue",
            "ContentBasedDeduplication",
            "SqsManagedSseEnabled",
        ):
            if key in props:
                value = props[key]
                attributes[key] = str(value).lower() if isinstance(value, bool) else str(value)
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": policy["deadLetterTargetArn"],
                    "maxReceiveCount": int(policy["maxReceiveCount"]),
                }
            )
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return Physical(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    # ------------------------------------------------------------------ Cognito
    def _user_pool(self, logical_id: str, props: dict[str, Any]) -> Physical:
        request = {k: v for k, v in props.items() if k not in ("UserPoolName", "UserPoolTags")}
        if "UserPoolTags" in props:
            request["UserPoolTags"] = props["UserPoolTags"]
        pool = self.client("cognito-idp").create_user_pool(
            PoolName=props.get("UserPoolName") or self.stack.physical_name(logical_id), **request
        )["UserPool"]
        provider = f"cognito-idp.{self.stack.region}.amazonaws.com/{pool['Id']}"
        return Physical(
            pool["Id"], {"Arn": pool["Arn"], "ProviderName": provider, "ProviderURL": f"https://{provider}"}
        )

    def _user_pool_client(self, logical_id: str, props: dict[str, Any]) -> Physical:
        request = {k: v for k, v in props.items() if k not in ("ClientName",)}
        client = self.client("cognito-idp").create_user_pool_client(
            ClientName=props.get("ClientName") or self.stack.physical_name(logical_id), **request
        )["UserPoolClient"]
        return Physical(client["ClientId"], {"Name": client["ClientName"]})

    def _user_pool_group(self, logical_id: str, props: dict[str, Any]) -> Physical:
        group = self.client("cognito-idp").create_group(**props)["Group"]
        return Physical(group["GroupName"])

    # ------------------------------------------------------------------ secrets, mail, schedules
    def _secret(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("Name") or self.stack.physical_name(logical_id)
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if value is None and generate:
            generated = secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
            template = generate.get("SecretStringTemplate")
            key = generate.get("GenerateStringKey")
            value = json.dumps({**json.loads(template), key: generated}) if template and key else generated
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=value or "")["ARN"]
        return Physical(arn, {"Id": arn})

    def _email_identity(self, logical_id: str, props: dict[str, Any]) -> Physical:
        identity = props["EmailIdentity"]
        self.client("sesv2").create_email_identity(EmailIdentity=identity)
        return Physical(identity)

    def _configuration_set(self, logical_id: str, props: dict[str, Any]) -> Physical:
        # Made in moto too, so sends that name it are accepted as SES would accept them.
        name = props.get("Name") or self.stack.physical_name(logical_id)
        self.client("sesv2").create_configuration_set(ConfigurationSetName=name)
        return Physical(name)

    def _schedule(self, logical_id: str, props: dict[str, Any]) -> Physical:
        name = props.get("Name") or self.stack.physical_name(logical_id)
        request = {k: v for k, v in props.items() if k != "Name"}
        arn = self.client("scheduler").create_schedule(Name=name, **request)["ScheduleArn"]
        return Physical(name, {"Arn": arn})

    def _function_schedule(self, function: str, name: str, expression: str, timezone: str, payload: str | None) -> None:
        target = {
            "Arn": f"arn:aws:lambda:{self.stack.region}:{ACCOUNT_ID}:function:{function}",
            "RoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/{function}-schedule",
        }
        if payload:
            target["Input"] = payload
        self.client("scheduler").create_schedule(
            # The template names each schedule after the stack, so two local stacks in one moto
            # (the tests make several) do not collide, as two deployed stacks in one account do not.
            Name=name,
            ScheduleExpression=expression,
            ScheduleExpressionTimezone=timezone,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,
        )


def create_resources(stack: LocalStack, dynamodb_endpoint: str, aws_endpoint: str) -> None:
    try:
        Provisioner(stack, dynamodb_endpoint, aws_endpoint).create_all()
    except TemplateError:
        raise
    except Exception as error:
        raise TemplateError(f"creating the template's resources locally failed: {error}") from error
