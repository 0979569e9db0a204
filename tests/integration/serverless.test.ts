/**
 * The real deployment artifacts and the real HTTP path: `osls package` and its CloudFormation,
 * then `npm start`'s stack (DynamoDB Local + serverless-offline) driven over HTTP.
 * One file, so the two never build into `.esbuild/` at the same time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signInWithPassword } from '../../dev/cognito.js';
import { LOCAL_DEFAULTS } from '../../dev/defaults.js';
import { runDemo } from '../../dev/demo.js';
import { portOpen } from '../../dev/dynamodb-local.js';
import { offlineInvoker } from '../../dev/lambda-invoke.js';
import { reconcileAndWait, waitForRun } from '../../dev/reconcile-run.js';
import { type LocalStack, startLocalStack } from '../../dev/stack.js';
import { silentMp3 } from '../../dev/twilio-api.js';
import { mapLimit } from '../../lib/platform/pool.js';
import { flows } from '../flows.js';
import { ALL_FEATURES } from '../global-setup.js';
import { ACCOUNT_SID, dialAction, signLikeTwilio, statusCallback } from '../helpers.js';
import { allFeaturesTemplate, packagedTemplate } from '../iam.js';
import { responseErrors } from '../openapi.js';

const root = join(import.meta.dirname, '../..');

describe('osls package', () => {
  // Packaged once per run by tests/global-setup.ts (the IAM checks read the same template).
  const dir = inject('packageDir');
  const template = packagedTemplate();

  const resource = (name: string) => {
    const found = template.Resources[name];
    if (found === undefined) throw new Error(`no resource ${name}`);
    return found;
  };

  it('defines the table on demand, named per stage, with TTL on expiresAt and a stream, retained on delete', () => {
    const table = resource('Table');
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    // Kept when the stack is deleted or the table replaced, but a first deploy that rolls back
    // removes it, so that the retry does not fail with "already exists".
    expect(table.DeletionPolicy).toBe('RetainExceptOnCreate');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      TableName: 'missed-call-ledger-prod',
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('runs the webhook on nodejs22.x with its own role and the table name as a plain string', () => {
    const fn = resource('WebhookLambdaFunction').Properties;
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.Role).toEqual({ 'Fn::GetAtt': ['WebhookRole', 'Arn'] });
    expect(fn.Environment).toMatchObject({
      Variables: {
        TABLE_NAME: 'missed-call-ledger-prod',
        TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        TWILIO_AUTH_TOKEN_PARAM: '/missed-call-ledger/prod/twilio-auth-token',
      },
    });
    expect(JSON.stringify(fn.Environment)).not.toContain('TWILIO_AUTH_TOKEN"');
  });

  it('limits the webhook role to writing this table, querying its settle partitions, reading its token parameters and its own logs', () => {
    const policies = resource('WebhookRole').Properties.Policies as {
      PolicyDocument: { Statement: { Action: string[]; Resource: unknown[] }[] };
    }[];
    const statements = policies.flatMap((p) => p.PolicyDocument.Statement);
    const byService = (prefix: string) => statements.filter((s) => s.Action.every((a) => a.startsWith(prefix)));

    expect(statements.flatMap((s) => s.Action).sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ssm:GetParameter',
      ].sort(),
    );
    expect(byService('dynamodb:')).toEqual([
      expect.objectContaining({ Resource: [{ 'Fn::GetAtt': ['Table', 'Arn'] }] }),
      // The settle sweep queries its index only.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, not a template literal
      { Effect: 'Allow', Action: ['dynamodb:Query'], Resource: [{ 'Fn::Sub': '${Table.Arn}/index/byLastMissed' }] },
    ]);
    // The sweep's schedule: every minute.
    const rules = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(JSON.stringify(rules)).toContain('rate(1 minute)');
    const ssm = JSON.stringify(byService('ssm:'));
    expect(ssm).toContain(':parameter/missed-call-ledger/prod/twilio-auth-token"');
    expect(ssm).toContain(':parameter/missed-call-ledger/prod/twilio-auth-token-secondary"');
    expect(JSON.stringify(statements)).not.toMatch(/"\*"|:\*"\]|dynamodb:\*/);
  });

  it('feeds the contacts Lambda from the stream with filters, partial failures, bounded retries and an SQS destination', () => {
    const mapping = resource('ContactsEventSourceMappingDynamodbTable').Properties;
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['Table', 'StreamArn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      MaximumRecordAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['ContactsFailureQueue', 'Arn'] } } },
    });
    const filters = (mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters.map((f) => JSON.parse(f.Pattern));
    expect(filters).toEqual([
      {
        eventName: ['INSERT', 'MODIFY'],
        dynamodb: {
          NewImage: { type: { S: ['call'] }, customer: { S: [{ exists: true }] }, contactPending: { S: [{ exists: true }] } },
        },
      },
      // A miss written by version 0.1.0 and not applied yet.
      {
        eventName: ['INSERT', 'MODIFY'],
        dynamodb: {
          NewImage: {
            type: { S: ['call'] },
            customer: { S: [{ exists: true }] },
            status: { S: [{ exists: true }] },
            outcome: { S: [{ exists: false }] },
            contactAppliedAt: { S: [{ exists: false }] },
          },
        },
      },
    ]);
    expect(resource('ContactsFailureQueue').Type).toBe('AWS::SQS::Queue');
  });

  /** A role's statements: its inline policies and the policies of their own attached to it. */
  const statementsOf = (role: string) => {
    type Doc = { PolicyDocument: { Statement: { Action: string[]; Resource: unknown[] }[] } };
    const attached = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: role }]))
      .map((r) => r.Properties as Doc);
    return [...(resource(role).Properties.Policies as Doc[]), ...attached].flatMap((p) => p.PolicyDocument.Statement);
  };

  it('limits the contacts role to its table, its stream, its queue and its own logs', () => {
    const statements = statementsOf('ContactsRole');
    const resources = statements.flatMap((s) => s.Resource.map((r) => JSON.stringify(r)));
    expect(new Set(resources)).toEqual(
      new Set([
        JSON.stringify({
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation !Sub string.
          'Fn::Sub': 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/missed-call-ledger-prod-contacts:*',
        }),
        JSON.stringify({ 'Fn::GetAtt': ['Table', 'Arn'] }),
        JSON.stringify({ 'Fn::GetAtt': ['Table', 'StreamArn'] }),
        JSON.stringify({ 'Fn::GetAtt': ['ContactsFailureQueue', 'Arn'] }),
        // The ONE Twilio REST credential, for late misses (lib/callbacks/reached.ts).
        JSON.stringify({
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation !Sub string.
          'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/missed-call-ledger/prod/twilio-auth-token',
        }),
      ]),
    );
    expect(statements.flatMap((s) => s.Action).every((a) => /^(logs|dynamodb|sqs|ssm):[A-Za-z]+$/.test(a))).toBe(true);
    expect(resource('ContactsLambdaFunction').Properties.Role).toEqual({ 'Fn::GetAtt': ['ContactsRole', 'Arn'] });
  });

  it('limits the events role to its stream, its queue, its logs and PutEvents on the one bus', () => {
    const statements = statementsOf('EventsRole');
    expect(statements.flatMap((s) => s.Action).sort()).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      'events:PutEvents',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:SendMessage',
    ]);
    const putEvents = statements.find((s) => s.Action.includes('events:PutEvents'));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation !Sub string.
    expect(putEvents?.Resource).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' }]);
    expect(resource('EventsLambdaFunction').Properties).toMatchObject({ Environment: { Variables: { EVENT_BUS_NAME: 'default' } } });
  });

  it('runs the reconciliation nightly and behind the operator API key, with its own limited role', () => {
    expect(resource('ReconcileEventsRuleSchedule1').Properties.ScheduleExpression).toBe('cron(0 3 * * ? *)');
    expect(resource('ApiGatewayMethodReconcilePost').Properties.ApiKeyRequired).toBe(true);
    expect(resource('ApiGatewayMethodTwilioCallDashstatusPost').Properties.ApiKeyRequired).toBe(false);
    expect(resource('ReconcileLambdaFunction').Properties).toMatchObject({
      Timeout: 300,
      Role: { 'Fn::GetAtt': ['ReconcileRole', 'Arn'] },
    });
    const policies = resource('ReconcileRole').Properties.Policies as {
      PolicyDocument: { Statement: { Action: string[]; Resource: unknown[] }[] };
    }[];
    const statements = policies.flatMap((p) => p.PolicyDocument.Statement);
    const text = JSON.stringify(statements);
    expect(statements.flatMap((s) => s.Action).sort()).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'lambda:InvokeFunction',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:SendMessage',
        'ssm:GetParameter',
      ].sort(),
    );
    // Its runs continue in invocations of this one function; its runs are listed from one index,
    // the open callbacks (which the answered calls it lists resolve) from the other.
    const resourcesOf = (action: string) => statements.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource);
    expect(resourcesOf('lambda:InvokeFunction')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, not a template literal
      { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:missed-call-ledger-prod-reconcile' },
    ]);
    expect(resourcesOf('dynamodb:Query')).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, not a template literal
      { 'Fn::Sub': '${Table.Arn}/index/byLastMissed' },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, not a template literal
      { 'Fn::Sub': '${Table.Arn}/index/byCallbackState' },
    ]);
    // An invocation that failed every retry goes to its failure queue (Lambda's on-failure destination).
    expect(resourcesOf('sqs:SendMessage')).toEqual([{ 'Fn::GetAtt': ['ReconcileFailureQueue', 'Arn'] }]);
    // ONE Twilio credential: the auth token (no API key SID was set at package time).
    expect(text).toContain(':parameter/missed-call-ledger/prod/twilio-auth-token"');
    expect(text).not.toContain('twilio-auth-token-secondary');
    expect(text).not.toContain('twilio-api-key-secret');
    expect(text).not.toMatch(/"\*"|StreamArn/);
  });

  it('serves the operator routes behind the API key, reads plus the resolve transaction and the erasure, under a usage plan with quota', () => {
    for (const method of [
      'StatsGet',
      'HealthGet',
      'ContactsGet',
      'CallbacksGet',
      'CallbacksPhoneVarResolvePost',
      'ContactsPhoneVarDelete',
    ]) {
      expect(resource(`ApiGatewayMethod${method}`).Properties.ApiKeyRequired).toBe(true);
    }
    expect(resource('ApiGatewayUsagePlan').Properties).toMatchObject({
      Quota: { Limit: 10000, Period: 'DAY' },
      Throttle: { BurstLimit: 10, RateLimit: 5 },
    });
    const policies = resource('OperatorRole').Properties.Policies as {
      PolicyDocument: { Statement: { Action: string[]; Resource: unknown[] }[] };
    }[];
    const actions = policies.flatMap((p) => p.PolicyDocument.Statement).flatMap((s) => s.Action);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it('serves the dashboard without a key from a function that may only write its logs, and gzips what API Gateway sends', () => {
    // The root resource's GET and the assets' GET: no key (the page asks for it; the data routes want it).
    expect(resource('ApiGatewayMethodGet').Properties).toMatchObject({ HttpMethod: 'GET', ApiKeyRequired: false });
    expect(resource('ApiGatewayMethodDashboardFileVarGet').Properties).toMatchObject({ HttpMethod: 'GET', ApiKeyRequired: false });
    expect(resource('DashboardLambdaFunction').Properties).toMatchObject({
      Role: { 'Fn::GetAtt': ['DashboardRole', 'Arn'] },
      MemorySize: 128,
      Environment: { Variables: { DEFAULT_COUNTRY: 'US' } },
    });
    const policies = resource('DashboardRole').Properties.Policies as {
      PolicyDocument: { Statement: { Action: string[] }[] };
    }[];
    expect(policies.flatMap((p) => p.PolicyDocument.Statement).flatMap((s) => s.Action)).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
    expect(resource('ApiGatewayRestApi').Properties.MinimumCompressionSize).toBe(1024);
  });

  it('packages the text-back off: its rule on the bus disabled, no stream of its own, its role the table, its queue and the ONE Twilio secret', () => {
    expect(
      Object.values(template.Resources).filter(
        (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName).includes('TextbackLambdaFunction'),
      ),
    ).toEqual([]);
    expect(resource('TextBackRule').Properties).toMatchObject({
      State: 'DISABLED',
      EventBusName: 'default',
      EventPattern: { source: ['missed-call-ledger'], 'detail-type': ['Callback opened'] },
      Targets: [
        {
          Arn: { 'Fn::GetAtt': ['TextbackLambdaFunction', 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 24, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['TextBackFailureQueue', 'Arn'] } },
        },
      ],
    });
    // EventBridge may invoke it, and put what it could not deliver in its queue, for this rule only.
    expect(resource('TextBackRulePermission').Properties).toMatchObject({
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['TextBackRule', 'Arn'] },
    });
    expect(JSON.stringify(resource('TextBackFailureQueuePolicy').Properties)).toContain(
      '"aws:SourceArn":{"Fn::GetAtt":["TextBackRule","Arn"]}',
    );
    expect((resource('TextbackLambdaFunction').Properties.Environment as { Variables: unknown }).Variables).toMatchObject({
      TEXT_BACK: 'off',
      TIME_ZONE: 'UTC',
      TEXT_BACK_COOLDOWN_HOURS: '24',
      TEXT_BACK_MAX_AGE_MINUTES: '30',
      TWILIO_REST_SECRET_PARAM: '/missed-call-ledger/prod/twilio-auth-token',
    });
    const policies = resource('TextBackRole').Properties.Policies as { PolicyDocument: { Statement: { Action: string[] }[] } }[];
    expect(
      policies
        .flatMap((p) => p.PolicyDocument.Statement)
        .flatMap((s) => s.Action)
        .sort(),
    ).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:SendMessage',
        'ssm:GetParameter',
      ].sort(),
    );
    // The events function publishes Text-back sent: its mapping lets sent text-back items through.
    const events = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName).includes('EventsLambdaFunction'),
    );
    expect(JSON.stringify(events?.Properties.FilterCriteria)).toContain('textback');
  });

  it('packages the text-back on: its rule enabled, on the bus given by its ARN (every optional feature on)', () => {
    const all = allFeaturesTemplate();
    expect(all.Resources.TextBackRule?.Properties).toMatchObject({ State: 'ENABLED', EventBusName: ALL_FEATURES.EVENT_BUS_NAME });
    expect((all.Resources.TextbackLambdaFunction?.Properties.Environment as { Variables: unknown } | undefined)?.Variables).toMatchObject({
      TEXT_BACK: 'on',
    });
  });

  for (const [name, read] of [
    ['as packaged', () => template],
    ['with every optional feature on', allFeaturesTemplate],
  ] as const) {
    it(`keeps at most two readers on the table's stream (${name})`, () => {
      const t = read();
      const readers = Object.entries(t.Resources).filter(
        ([, r]) =>
          (r.Type === 'AWS::Lambda::EventSourceMapping' || r.Type === 'AWS::Pipes::Pipe') &&
          JSON.stringify(r.Properties).includes('"StreamArn"'),
      );
      expect(readers.map(([logical]) => logical).sort()).toEqual([
        'ContactsEventSourceMappingDynamodbTable',
        'EventsEventSourceMappingDynamodbTable',
      ]);
      expect(readers.length).toBeLessThanOrEqual(2);
    });

    it(`sets Lambda's retries for every function invoked asynchronously, and a queue with an alarm where its events carry work (${name})`, () => {
      const t = read();
      const logical = (arn: unknown): string | undefined => {
        const text = JSON.stringify(arn);
        return /"(\w+LambdaFunction)"/.exec(text)?.[1];
      };
      // Invoked asynchronously: a rule's target (schedules, the text-back's rule), and a function
      // a role may invoke (the reconciliation continues in its own asynchronous invocations).
      const targets = Object.values(t.Resources)
        .filter((r) => r.Type === 'AWS::Events::Rule')
        .flatMap((r) => (r.Properties.Targets as { Arn: unknown }[]).map((target) => logical(target.Arn)));
      const invoked = Object.values(t.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Role')
        .flatMap((r) => r.Properties.Policies as { PolicyDocument: { Statement: { Action: string[]; Resource: unknown[] }[] } }[])
        .flatMap((p) => p.PolicyDocument.Statement)
        .filter((st) => st.Action.includes('lambda:InvokeFunction'))
        .flatMap((st) =>
          st.Resource.map((r) =>
            /function:\$\{self:service\}-\$\{sls:stage\}-(\w+)"|function:missed-call-ledger-prod-(\w+)/.exec(JSON.stringify(r)),
          ),
        )
        .map((m) => (m === null ? undefined : `${(m[1] ?? m[2] ?? '').replace(/^./, (c) => c.toUpperCase())}LambdaFunction`));
      const asynchronous = [...new Set([...targets, ...invoked])].sort();
      expect(asynchronous).toEqual([
        'ReconcileLambdaFunction',
        'RecordingsLambdaFunction',
        'TextbackLambdaFunction',
        'WebhookLambdaFunction',
      ]);
      const configs = Object.values(t.Resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig');
      const configOf = (fn: string) =>
        configs.find((c) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify({ Ref: fn }))?.Properties;
      for (const fn of asynchronous) {
        const config = configOf(fn ?? '');
        expect(config, fn).toMatchObject({
          Qualifier: '$LATEST',
          MaximumRetryAttempts: expect.any(Number),
          MaximumEventAgeInSeconds: expect.any(Number),
        });
      }
      // The settle sweep's next minute does what a lost sweep would have: no retry, no queue.
      expect(configOf('WebhookLambdaFunction')).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
      for (const [fn, queue] of [
        ['ReconcileLambdaFunction', 'ReconcileFailureQueue'],
        ['TextbackLambdaFunction', 'TextBackFailureQueue'],
        ['RecordingsLambdaFunction', 'RecordingsFailureQueue'],
      ] as const) {
        expect(configOf(fn)?.DestinationConfig, fn).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } });
      }
      expect(configOf('ReconcileLambdaFunction')).toMatchObject({ MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 600 });
      // Every failure queue (stream mappings', rules', Lambda's) has an alarm on its depth.
      const queues = Object.entries(t.Resources)
        .filter(([, r]) => r.Type === 'AWS::SQS::Queue')
        .map(([logical]) => logical);
      expect(queues.sort()).toEqual([
        'ContactsFailureQueue',
        'EventsFailureQueue',
        'ReconcileFailureQueue',
        'RecordingsFailureQueue',
        'TextBackFailureQueue',
      ]);
      const alarms = Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Namespace === 'AWS/SQS');
      for (const queue of queues) {
        expect(alarms.find((a) => JSON.stringify(a.Properties.Dimensions).includes(`"${queue}"`))?.Properties, queue).toMatchObject({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
    });

    it(`makes each stream mapping wait for a policy that lets its role read the stream (${name})`, () => {
      const t = read();
      for (const [logical, mapping] of Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')) {
        const fn = /"(\w+LambdaFunction)"/.exec(JSON.stringify(mapping.Properties.FunctionName))?.[1] ?? '';
        const role = JSON.stringify(t.Resources[fn]?.Properties.Role);
        const roleName = /"(\w+Role)"/.exec(role)?.[1];
        const policies = ((mapping as { DependsOn?: string[] }).DependsOn ?? [])
          .map((name) => t.Resources[name])
          .filter((r) => r?.Type === 'AWS::IAM::Policy');
        const reads = policies.filter(
          (p) =>
            JSON.stringify(p?.Properties.Roles) === JSON.stringify([{ Ref: roleName }]) &&
            JSON.stringify(p?.Properties.PolicyDocument).includes('dynamodb:GetRecords') &&
            JSON.stringify(p?.Properties.PolicyDocument).includes('"Table","StreamArn"'),
        );
        expect(reads, logical).toHaveLength(1);
      }
    });
  }

  it('protects the table from deletion, unless TABLE_DELETION_PROTECTION=false (a test stage)', () => {
    expect(resource('Table').Properties.DeletionProtectionEnabled).toBe(true);
    expect(allFeaturesTemplate().Resources.Table?.Properties.DeletionProtectionEnabled).toBe(true);
    const { status, output } = inject('printed').unprotected;
    expect(status, output.slice(-2000)).toBe(0);
    expect(
      (JSON.parse(output) as { resources: { Resources: { Table: { Properties: unknown } } } }).resources.Resources.Table.Properties,
    ).toMatchObject({
      DeletionProtectionEnabled: false,
    });
  });

  it('grants PutEvents on the bus EVENT_BUS_NAME names, by name or by ARN', () => {
    const putEvents = (t: typeof template) =>
      (
        (t.Resources.EventsRole?.Properties.Policies ?? []) as {
          PolicyDocument: { Statement: { Action: string[]; Resource: unknown[] }[] };
        }[]
      )
        .flatMap((p) => p.PolicyDocument.Statement)
        .filter((st) => st.Action.includes('events:PutEvents'))
        .flatMap((st) => st.Resource);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, not a template literal
    expect(putEvents(template)).toEqual([{ 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' }]);
    expect(putEvents(allFeaturesTemplate())).toEqual([ALL_FEATURES.EVENT_BUS_NAME]);
    const env = (t: typeof template) =>
      ((t.Resources.EventsLambdaFunction?.Properties.Environment ?? {}) as { Variables?: Record<string, string> }).Variables ?? {};
    expect(env(template).EVENT_BUS_NAME).toBe('default');
    expect(env(allFeaturesTemplate()).EVENT_BUS_NAME).toBe(ALL_FEATURES.EVENT_BUS_NAME);
    // The alarms notify the topic when one is given.
    const actions = Object.values(allFeaturesTemplate().Resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((a) => a.Properties.AlarmActions);
    // One per failure queue (contacts, events, reconcile, textback, recordings) and the lost audit entries'.
    expect(actions.length).toBe(6);
    expect(actions.every((a) => JSON.stringify(a) === JSON.stringify([ALL_FEATURES.ALARM_TOPIC_ARN]))).toBe(true);
  });

  it('counts the audit entries that could not be kept (the message lib/audit/trail.ts logs) in both functions that write them, with an alarm', () => {
    const audited = ['OperatorLogGroup', 'ReconcileLogGroup'];
    const filters = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Logs::MetricFilter');
    expect(filters.map((f) => f.Properties.LogGroupName).sort()).toEqual(audited.map((group) => ({ Ref: group })));
    const source = readFileSync(new URL('../../lib/audit/trail.ts', import.meta.url), 'utf8');
    for (const filter of filters) {
      const message = /^\{ \$\.message = "([^"]+)" \}$/.exec(String(filter.Properties.FilterPattern))?.[1] ?? '';
      expect(source).toContain(`logger.error('${message}'`);
      expect(filter.Properties.MetricTransformations).toEqual([
        { MetricNamespace: 'MissedCallLedger', MetricName: 'AuditEntryLost', MetricValue: '1' },
      ]);
    }
    expect(resource('AuditEntryLostAlarm').Properties).toMatchObject({
      Namespace: 'MissedCallLedger',
      MetricName: 'AuditEntryLost',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('guards the data: point-in-time recovery, Retain, log retention, and no * in any IAM statement', () => {
    expect(resource('Table').Properties).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(resource('Table').DeletionPolicy).toBe('RetainExceptOnCreate');
    const logGroups = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    // One per function: webhook, contacts, events, reconcile, operator, textback, recordings, dashboard.
    expect(logGroups.length).toBe(8);
    expect(logGroups.every((g) => g.Properties.RetentionInDays === 30)).toBe(true);
    const roles = Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::Role');
    const policies = Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::Policy');
    const statements = [
      ...roles.flatMap((r) => r.Properties.Policies as { PolicyDocument: { Statement: { Action: string[]; Resource: unknown[] }[] } }[]),
      ...policies.map((r) => r.Properties as { PolicyDocument: { Statement: { Action: string[]; Resource: unknown[] }[] } }),
    ].flatMap((p) => p.PolicyDocument.Statement);
    expect(policies.length).toBe(2);
    expect(roles.length).toBe(8);
    expect(statements.flatMap((s) => s.Action).filter((a) => a.includes('*'))).toEqual([]);
    expect(statements.flatMap((s) => s.Resource).filter((r) => r === '*')).toEqual([]);
  });

  it('gives the reconciliation, the operator and the contacts function ONE Twilio credential: with an API key, its secret only', () => {
    // `osls print` with TWILIO_API_KEY_SID=SK222… (run by tests/global-setup.ts).
    const { status, output } = inject('printed').apiKey;
    expect(status, output.slice(-2000)).toBe(0);
    const printed = JSON.parse(output) as {
      functions: Record<string, { environment?: Record<string, string> }>;
      resources: { Resources: Record<string, unknown> };
    };
    for (const fn of ['reconcile', 'operator', 'contacts']) {
      expect(printed.functions[fn]?.environment).toMatchObject({
        TWILIO_API_KEY_SID: `SK${'2'.repeat(32)}`,
        TWILIO_REST_SECRET_PARAM: '/missed-call-ledger/prod/twilio-api-key-secret',
      });
      const role = JSON.stringify(printed.resources.Resources[`${fn[0]?.toUpperCase()}${fn.slice(1)}Role`]);
      expect(role).toContain(':parameter/missed-call-ledger/prod/twilio-api-key-secret"');
      expect(role).not.toContain('twilio-auth-token');
    }
  });

  it('fails at package time, not at the first scheduled run, on a malformed TWILIO_API_KEY_SID', () => {
    const { status, output } = inject('printed').badApiKey;
    expect(status).not.toBe(0);
    expect(output).toContain('TWILIO_API_KEY_SID must look like SK followed by 32 hex digits');
  });

  it.each([
    ['as packaged', () => inject('cfnLint')],
    ['with every optional feature on', () => inject('allFeatures').cfnLint],
  ])('passes cfn-lint with no errors, and only the warnings listed here with their reason (%s)', (_, read) => {
    // Run on the packaged templates by tests/global-setup.ts, beside the packaging.
    const { findings, error } = read();
    expect(error).toBeUndefined();
    // parseable: file:line:col:endline:endcol:RULE:message
    const rules = findings.map((line) => line.split(':')[5] ?? line);
    expect(
      rules.filter((rule) => rule.startsWith('E')),
      findings.join('\n'),
    ).toEqual([]);
    const known: Record<string, string> = {
      // osls adds DependsOn: [<Role>] to every function with a custom `role:` besides its
      // Fn::GetAtt; redundant and harmless, and not something serverless.yml can turn off.
      W3005: 'redundant DependsOn on the role, generated by the framework',
    };
    expect(
      rules.filter((rule) => !(rule in known)),
      findings.join('\n'),
    ).toEqual([]);
  });

  it('bundles the webhook alone, without the AWS SDK', () => {
    const listing = execFileSync('unzip', ['-Z1', join(dir, 'webhook.zip')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listing).toEqual(['functions/webhook.cjs']);
    const bundle = execFileSync('unzip', ['-p', join(dir, 'webhook.zip'), 'functions/webhook.cjs'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    expect(bundle).toContain('require("@aws-sdk/lib-dynamodb")');
    // The webhook needs only the signature helper, never the Twilio REST client.
    expect(bundle).not.toContain('api.twilio.com');
    expect(statSync(join(dir, 'webhook.zip')).size).toBeGreaterThan(0);
  });

  it("packages the contacts function's Twilio client as a file of its own, in its package only, required on first use", () => {
    const listing = (fn: string) =>
      execFileSync('unzip', ['-Z1', join(dir, `${fn}.zip`)], { encoding: 'utf8' })
        .trim()
        .split('\n');
    expect(listing('contacts').sort()).toEqual(['functions/contacts.cjs', 'functions/twilio-client.cjs']);
    for (const fn of ['webhook', 'events', 'reconcile', 'operator', 'textback', 'dashboard']) {
      expect(listing(fn), fn).not.toContain('functions/twilio-client.cjs');
    }
    const bundle = execFileSync('unzip', ['-p', join(dir, 'contacts.zip'), 'functions/contacts.cjs'], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    // Required inside a lazily run module (the late-miss check), not at init; none of the SDK in the bundle.
    expect(bundle).toContain('require("./twilio-client.cjs")');
    expect(bundle).not.toContain('api.twilio.com');
    // The file works on its own: what the function imports from it.
    const unpacked = join(dir, 'contacts-unpacked');
    execFileSync('unzip', ['-o', '-q', join(dir, 'contacts.zip'), '-d', unpacked]);
    const client = createRequire(import.meta.url)(join(unpacked, 'functions/twilio-client.cjs'));
    expect(typeof client.twilioCallsFactory).toBe('function');
  });
});

/** One invocation through serverless-offline's Lambda endpoint; its answer as text. */
async function invokeLocal(lambdaPort: number, functionName: string, event: unknown): Promise<string> {
  const client = new LambdaClient({
    endpoint: `http://127.0.0.1:${lambdaPort}`,
    region: LOCAL_DEFAULTS.AWS_REGION,
    credentials: { accessKeyId: LOCAL_DEFAULTS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_DEFAULTS.AWS_SECRET_ACCESS_KEY },
  });
  const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }));
  return out.Payload === undefined ? '' : Buffer.from(out.Payload).toString('utf8');
}

describe('the local stack (npm start) end to end', () => {
  let stack: LocalStack;
  let output = '';
  let port: number;
  let dynamoPort: number;
  let docs: DynamoDBDocumentClient;
  const tableName = 'missed-call-ledger-local';
  const token = LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN;

  beforeAll(async () => {
    // No Twilio settings at all: the embedded defaults must carry the stack.
    // Text-back on: the option works through npm start (its own test below).
    // RECONCILE_INVOCATION_SECONDS=1: a run here hands over to a fresh asynchronous invocation
    // after a second of work (tests/reliability/backlog.test.ts runs one page an invocation); every
    // run starts in one, through serverless-offline's asynchronous invokes.
    // OUTCOME_SETTLE_SECONDS=2 with the local settle sweep every second: a call whose final
    // callback is lost is decided within seconds here (60 s and every minute by default).
    stack = await startLocalStack({
      TWILIO_ACCOUNT_SID: '',
      TWILIO_AUTH_TOKEN: '',
      TEXT_BACK: 'on',
      RECONCILE_INVOCATION_SECONDS: '1',
      OUTCOME_SETTLE_SECONDS: '2',
      LOCAL_SETTLE_SWEEP_SECONDS: '1',
    });
    // Part of starting a stack, not of any test: serverless-offline loads each function's bundle
    // on its first invocation (seconds on a busy machine). Nothing here records a call: the
    // reconciliation finds no call in the empty local Twilio API (it only sets its watermark).
    const warm = { headers: { 'x-api-key': stack.key } };
    await Promise.all([
      // Two of each: the demo below sends two at a time, and serverless-offline starts a worker for each.
      fetch(`${stack.target}/health`, warm),
      fetch(`${stack.target}/health`, warm),
      reconcileAndWait(stack),
      fetch(`${stack.target}/twilio/call-status`, { method: 'POST' }),
      fetch(`${stack.target}/twilio/call-status`, { method: 'POST' }),
      // The stream consumers through serverless-offline's Lambda endpoint, each with an empty batch;
      // the text-back with an event it ignores (its rule's events come from the bus).
      invokeLocal(stack.ports[1] ?? 0, 'missed-call-ledger-local-textback', { source: 'warm-up', 'detail-type': 'none', detail: {} }),
      invokeLocal(stack.ports[1] ?? 0, 'missed-call-ledger-local-recordings', { source: 'warm-up', 'detail-type': 'none', detail: {} }),
      ...['contacts', 'events'].map((fn) =>
        offlineInvoker({
          lambdaPort: stack.ports[1] ?? 0,
          functionName: `missed-call-ledger-local-${fn}`,
          region: LOCAL_DEFAULTS.AWS_REGION,
          accessKeyId: LOCAL_DEFAULTS.AWS_ACCESS_KEY_ID,
          secretAccessKey: LOCAL_DEFAULTS.AWS_SECRET_ACCESS_KEY,
        })({ Records: [] }),
      ),
    ]);
    output = stack.output();
    port = Number(new URL(stack.target).port);
    dynamoPort = Number(new URL(stack.dynamoEndpoint ?? 'http://127.0.0.1:0').port);
    docs = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: `http://127.0.0.1:${dynamoPort}`,
        region: LOCAL_DEFAULTS.AWS_REGION,
        credentials: { accessKeyId: LOCAL_DEFAULTS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_DEFAULTS.AWS_SECRET_ACCESS_KEY },
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await stack.stop();
  });

  const post = (path: string, params: Record<string, string>, signature: string) =>
    fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': signature },
      body: new URLSearchParams(params),
    });

  const items = async () => (await docs.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? [];

  it('prints the URLs and the local auth token', () => {
    expect(output).toContain(`POST http://127.0.0.1:${port}/twilio/call-status`);
    expect(output).toContain(`POST http://127.0.0.1:${port}/twilio/dial-status`);
    expect(output).toContain(token);
  });

  // First on this stack, while its ledger is empty: the demo compares the whole ledger with its
  // ground truth. (The stack is the one started above, so the demo's own start-up is not timed.)
  it("the demo (npm run demo's runDemo): 5 calls with 10% of webhooks lost and 10% duplicated, and the ledger agrees exactly", async () => {
    // In process against this stack: the command itself (scripts/demo.ts) only parses its flags,
    // starts or names a stack and calls runDemo; spawning it would add a TypeScript start-up.
    const lines: string[] = [];
    const agrees = await runDemo(
      stack,
      {
        calls: 5,
        seed: 7,
        accountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
        authToken: LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN,
        drop: 0.1,
        duplicates: 0.1,
        // Two at a time: serverless-offline starts a fresh (cold) Lambda worker for each
        // concurrent invocation, so five at once costs seconds of start-ups on a busy machine.
        concurrency: 2,
      },
      (line) => lines.push(line),
    );
    const out = lines.join('\n');
    expect(out).toContain('The ledger agrees with the ground truth.');
    expect(out).not.toContain('DIFFERENT');
    // 5 calls drawn, and the staff callbacks (and after-hours voicemails) planned after them.
    const day = /(\d+) calls, \d+ callbacks, (\d+) dropped/.exec(out);
    expect(Number(day?.[1])).toBeGreaterThanOrEqual(5);
    expect(Number(day?.[2])).toBeGreaterThan(0);
    expect(out).toMatch(/voicemails: \d+ left, \d+ shown/);
    expect(agrees).toBe(true);
  });

  let sentFlows: { all: ReturnType<typeof flows>; lostEnd: ReturnType<typeof flows>[number] } | undefined;

  it('decides whole calls through npm start: a flow of each kind, its callbacks shuffled and some twice, one with its end lost (the settle sweep)', async () => {
    // On a day of their own: the tests below count 2026-11-24's calls exactly.
    // A flow of each kind (tests/integration/whole-call.test.ts has them all, in every order).
    const kinds = new Set([
      'hunt answered by the cell',
      'hunt nobody answered',
      'simultaneous ring, one answers',
      'caller hangs up while it rings',
      'caller hangs up within 10 s (a misdial)',
      'a forwarded cell phone’s voicemail answers',
      'caller waits in a queue and hangs up',
      'an IVR alone handles the call',
      'ring the office, then voicemail',
      'after hours, straight to voicemail',
    ]);
    const all = flows(60, Date.parse('2026-10-15T15:00:00.000Z'))
      .filter((f) => kinds.has(f.name))
      .map((flow) => ({
        ...flow,
        deliveries: flow.deliveries.map((d) => ({ ...d, params: { ...d.params, AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID } })),
      }));
    const lostEnd = all.find((f) => f.name === 'hunt nobody answered');
    if (lostEnd === undefined) throw new Error('fixture');
    // A fixed shuffle (a seeded sort key per delivery), the first callback of each call twice.
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const deliveries = all
      .flatMap((f) => f.deliveries.filter((d) => !(f === lostEnd && d.rootEnd)).flatMap((d, i) => (i === 0 ? [d, d] : [d])))
      .map((d) => ({ d, k: next() }))
      .sort((a, b) => a.k - b.k)
      .map(({ d }) => d);
    // Four at a time, so that callbacks of one call still race: serverless-offline starts a cold
    // Lambda worker per concurrent invocation, and eight at a time (as the simulator sends them)
    // took 3.3 s to send these 37 alone (four 1.6 s), 9 s for the whole test in a loaded CI run.
    const statuses: number[] = [];
    const startedAt = Date.now();
    await mapLimit(deliveries, 4, async (d) => {
      statuses.push((await post(d.route, d.params, signLikeTwilio(token, `http://127.0.0.1:${port}${d.route}`, d.params))).status);
    });
    expect(statuses.filter((status) => status >= 300)).toEqual([]);
    const sentAt = Date.now();
    const outcome = (item: Record<string, unknown> | undefined) =>
      item === undefined
        ? 'not-missed'
        : (item.outcome ?? (item.endedAt !== undefined && item.gsi1pk === undefined ? 'not-missed' : 'undecided'));
    const expected: { flow: string; outcome: string; reason: string | undefined }[] = all.map((f) => ({
      flow: f.name,
      outcome: f.expected.outcome,
      reason: f.expected.outcome === 'missed' ? f.expected.reason : undefined,
    }));
    let seen: typeof expected = [];
    // The call whose end was lost settles 2 s after its last callback (the sweep runs every second).
    for (let waited = 0; waited < 8_000; waited += 250) {
      const byPk = new Map((await items()).map((i) => [i.pk, i]));
      seen = all.map((f) => {
        const item = byPk.get(`CALL#${f.root}`);
        return {
          flow: f.name,
          outcome: String(outcome(item)),
          reason: typeof item?.reason === 'string' && item.outcome === 'missed' ? item.reason : undefined,
        };
      });
      if (JSON.stringify(seen) === JSON.stringify(expected)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(seen).toEqual(expected);
    console.log(
      `[e2e] ${deliveries.length} callbacks sent in ${sentAt - startedAt} ms; flows decided ${Date.now() - sentAt} ms after the last`,
    );
    const byPk = new Map((await items()).map((i) => [i.pk, i]));
    expect(byPk.get(`CALL#${lostEnd.root}`)).toMatchObject({ source: 'settle', outcome: 'missed' });
    sentFlows = { all, lostEnd };
  });

  it('turns those flows into contacts through the stream: a miss that opens a callback, and no other', async () => {
    if (sentFlows === undefined) throw new Error('the flows above were not sent');
    const { all, lostEnd } = sentFlows;
    // Contacts follow through the stream: a miss that opens a callback has its caller's contact;
    // an answered call and a short hang-up have none, nor the hunt whose end was lost: its
    // caller's number comes only with the root's own callbacks (a known limit, docs/OPERATIONS.md).
    const opens = (f: (typeof all)[number]) => f !== lostEnd && f.expected.outcome === 'missed' && f.expected.reason !== 'short-abandoned';
    for (let waited = 0; waited < 6_000; waited += 250) {
      const contacts = new Set((await items()).filter((i) => i.type === 'contact').map((i) => i.phone));
      // Until every caller has a contact exactly when their call opens a callback (a miss taken
      // back takes its contact with it).
      if (all.every((f) => contacts.has(f.caller) === opens(f))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const contacts = new Set((await items()).filter((i) => i.type === 'contact').map((i) => i.phone));
    for (const f of all) expect({ flow: f.name, contact: contacts.has(f.caller) }).toEqual({ flow: f.name, contact: opens(f) });
    // A message left shows with its miss in GET /contacts/{phone}, with its transcript when one came.
    const withMessage = all.filter((f) => f.voicemail !== undefined && opens(f));
    expect(withMessage.length).toBeGreaterThan(0);
    const headers = { 'x-api-key': stack.key };
    for (const f of withMessage) {
      const served = { ...f.voicemail, url: `/recordings/${f.voicemail?.recordingSid}` };
      const response = await fetch(`${stack.target}/contacts/${encodeURIComponent(f.caller)}`, { headers });
      const body = (await response.json()) as { calls: { callSid: string; voicemail?: unknown }[] };
      expect({ flow: f.name, voicemail: body.calls.find((c) => c.callSid === f.root)?.voicemail }).toEqual({
        flow: f.name,
        voicemail: served,
      });
    }
  });

  it('shows those voicemails on their open callbacks in GET /callbacks, the transcript that came after the miss too', async () => {
    if (sentFlows === undefined) throw new Error('the flows above were not sent');
    const { all, lostEnd } = sentFlows;
    const headers = { 'x-api-key': stack.key };
    const withMessage = all.filter(
      (f) => f !== lostEnd && f.voicemail !== undefined && f.expected.outcome === 'missed' && f.expected.reason !== 'short-abandoned',
    );
    expect(withMessage.length).toBeGreaterThan(0);
    for (const f of withMessage) {
      const served = { ...f.voicemail, url: `/recordings/${f.voicemail?.recordingSid}` };
      // On the worklist, page by page: the stream brings a transcript that came after the miss
      // onto the contact a moment later.
      let onWorklist: unknown;
      for (let waited = 0; waited < 6_000 && JSON.stringify(onWorklist) !== JSON.stringify(served); waited += 250) {
        if (waited > 0) await new Promise((resolve) => setTimeout(resolve, 250));
        let cursor: string | null = '';
        onWorklist = undefined;
        while (cursor !== null && onWorklist === undefined) {
          const page = (await (
            await fetch(`${stack.target}/callbacks?limit=100&cursor=${encodeURIComponent(cursor)}`, { headers })
          ).json()) as {
            items: { phone: string; voicemail?: unknown }[];
            nextCursor: string | null;
          };
          onWorklist = page.items.find((i) => i.phone === f.caller)?.voicemail;
          cursor = page.nextCursor;
        }
      }
      expect({ flow: f.name, voicemail: onWorklist }).toEqual({ flow: f.name, voicemail: served });
    }
  });

  it('answers an Enqueue action with TwiML, and continues to `next` with <Redirect>', async () => {
    const params = {
      AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
      CallSid: `CA${'7'.repeat(32)}`,
      QueueResult: 'leave',
      QueueSid: `QU${'7'.repeat(32)}`,
      QueueTime: '40',
      Direction: 'inbound',
      From: '+14155550177',
      To: '+14155559876',
    };
    const path = '/twilio/queue-status?next=%2Fvoicemail';
    const response = await post(path, params, signLikeTwilio(token, `http://127.0.0.1:${port}${path}`, params));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/xml');
    expect(await response.text()).toContain('<Redirect method="POST">/voicemail</Redirect>');
  });

  it('records a signed no-answer callback once however often Twilio delivers it', async () => {
    const params = statusCallback({ AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID, Timestamp: 'Tue, 24 Nov 2026 09:15:42 +0000' });
    const signature = signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/call-status`, params);

    const first = await post('/twilio/call-status', params, signature);
    const again = await Promise.all(Array.from({ length: 6 }, () => post('/twilio/call-status', params, signature)));

    expect([first.status, ...again.map((r) => r.status)]).toEqual(Array(7).fill(204));
    const all = await items();
    expect(all.filter((i) => i.pk === `CALL#${params.CallSid}`)).toHaveLength(1);
    expect(all.find((i) => i.pk === 'STATS#2026-11-24')).toMatchObject({ total: 1, 'status:no-answer': 1, 'source:status-callback': 1 });
  });

  it("records a missed call sent by hand with docs/LOCAL.md's `npm run sign -- --curl … | sh`", () => {
    const callSidByHand = `CA${'5'.repeat(32)}`;
    const command = execFileSync(
      'npm',
      [
        'run',
        '--silent',
        'sign',
        '--',
        '--curl',
        `http://127.0.0.1:${port}/twilio/call-status`,
        `AccountSid=${LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID}`,
        `CallSid=${callSidByHand}`,
        'CallStatus=no-answer',
        'Direction=inbound',
        'From=+14155550142',
        'To=+14155559876',
      ],
      { cwd: root, encoding: 'utf8', timeout: 30_000 },
    );
    const reply = execFileSync('sh', ['-c', command], { encoding: 'utf8', timeout: 30_000 });
    expect(reply).toMatch(/^HTTP\/1\.1 204/);
  });

  it('refuses a tampered callback with 403 and writes nothing', async () => {
    const params = statusCallback({ AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID });
    const signature = signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/call-status`, params);
    // What the webhook writes: call keys and the missed-call counters. The contacts poller
    // may meanwhile touch other attributes of earlier calls, and create counter shards of
    // its own (callbacks opened, without a missed-call total) for them.
    const ledgerState = async () => {
      const all = await items();
      return {
        calls: all.filter((i) => String(i.pk).startsWith('CALL#')).map((i) => [i.pk, i.countedAs ?? null]),
        totals: all
          .filter((i) => String(i.pk).startsWith('STATS#') && i.total !== undefined)
          .map((i) => [i.pk, i.total])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      };
    };
    const before = await ledgerState();

    const response = await post('/twilio/call-status', { ...params, CallStatus: 'busy' }, signature);

    expect(response.status).toBe(403);
    const url = `http://127.0.0.1:${port}/twilio/call-status`;
    expect(await response.json()).toEqual({ message: `Invalid X-Twilio-Signature (checked against ${url} and ${url}#rc=3&rp=all)` });
    const after = await ledgerState();
    expect(after.calls.map(([pk]) => pk)).toEqual(before.calls.map(([pk]) => pk));
    expect(before.calls.map(([pk]) => pk)).not.toContain(`CALL#${params.CallSid}`);
    // Counters change only in the transaction that changes what a call item counts: with every
    // call counting what it did, the totals are the same. (The settle sweep may decide an earlier
    // test's call meanwhile: a CI run saw a shard's total move so; then only the keys are compared.)
    if (JSON.stringify(after.calls) === JSON.stringify(before.calls)) expect(after.totals).toEqual(before.totals);
  });

  it('answers a Dial action with TwiML', async () => {
    const params = dialAction({ AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID });
    const response = await post(
      '/twilio/dial-status',
      params,
      signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/dial-status`, params),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/xml');
    expect(await response.text()).toContain('<Hangup/>');
  });

  it('turns a signed webhook into a contact within a few seconds (stream poller -> contacts Lambda)', async () => {
    const from = '+14155550777';
    const params = statusCallback({ AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID, From: from });
    const response = await post(
      '/twilio/call-status',
      params,
      signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/call-status`, params),
    );
    expect(response.status).toBe(204);

    let contact: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && contact === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      contact = (await items()).find((item) => item.pk === `CONTACT#${from}`);
    }
    expect(contact).toMatchObject({ phone: from, missedCount: 1, lastCallSid: params.CallSid });

    // The events Lambda, on its own poller, published the facts to the local EventBridge.
    const bus = /Events\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    expect(bus).toBeDefined();
    let ids: string[] = [];
    for (let i = 0; i < 100 && ids.length < 2; i++) {
      const events = (await (await fetch(`${bus}/__local/events`)).json()) as { detail: { id: string } }[];
      ids = events.map((e) => e.detail.id).filter((id) => id.includes(params.CallSid) || id.startsWith(`callback-opened:${from}:`));
      if (ids.length < 2) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(ids.sort()).toEqual([expect.stringMatching(`^callback-opened:\\${from}:`), `missed-call-recorded:${params.CallSid}`]);
    expect(stack.output()).toContain(`event  Missed call recorded  missed-call-recorded:${params.CallSid}`);
  });

  it('texts a caller once with TEXT_BACK=on (textback Lambda -> local Twilio API), and the API and events say so', async () => {
    expect(output).toContain('Text-back        on');
    const from = '+14155557401';
    const params = statusCallback({
      AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID,
      From: from,
      Timestamp: new Date(Date.now() - 60_000).toUTCString(),
    });
    const signature = signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/call-status`, params);
    expect((await post('/twilio/call-status', params, signature)).status).toBe(204);
    expect((await post('/twilio/call-status', params, signature)).status).toBe(204);
    type Message = { to: string; from: string; sid: string; body: string };
    let sent: Message[] = [];
    for (let i = 0; i < 60 && sent.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      sent = ((await (await fetch(`${stack.twilioApi}/__local/messages`)).json()) as Message[]).filter((m) => m.to === from);
    }
    expect(sent).toEqual([expect.objectContaining({ to: from, from: params.To })]);
    // The message is in Twilio's hands a moment before its SID is recorded on the number.
    type Shown = { textBack: { state?: string } | null; callback: { textBack: unknown } };
    let contact: Shown = { textBack: null, callback: { textBack: null } };
    for (let i = 0; i < 50 && contact.textBack?.state !== 'sent'; i++) {
      const response = await fetch(`${stack.target}/contacts/${encodeURIComponent(from)}`, { headers: { 'x-api-key': stack.key } });
      contact = (await response.json()) as Shown;
      if (contact.textBack?.state !== 'sent') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(contact.textBack).toMatchObject({ state: 'sent', messageSid: sent[0]?.sid, optedOut: false });
    expect(contact.callback.textBack).toMatchObject({ state: 'sent', messageSid: sent[0]?.sid });
    let published = false;
    for (let i = 0; i < 50 && !published; i++) {
      const events = (await (await fetch(`${stack.events}/__local/events`)).json()) as { detailType: string; detail: { phone?: string } }[];
      published = events.some((e) => e.detailType === 'Text-back sent' && e.detail.phone === from);
      if (!published) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(published).toBe(true);
    // The duplicate delivery changed nothing: still one text.
    const again = ((await (await fetch(`${stack.twilioApi}/__local/messages`)).json()) as Message[]).filter((m) => m.to === from);
    expect(again).toHaveLength(1);
  });

  it('recovers, on POST /reconcile, exactly the missed calls the Twilio API reports, each once', async () => {
    const twilioApi = /Twilio API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    const operatorKey = /x-api-key: ([\w-]+)/.exec(output)?.[1];
    expect(twilioApi).toBeDefined();
    const startTime = new Date(Date.now() - 3_600_000).toISOString();
    // Only these four calls are Twilio's (the demo above registered its own).
    await fetch(`${twilioApi}/__local/calls`, { method: 'DELETE' });
    const seeded = await fetch(`${twilioApi}/__local/calls`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([
        { from: '+14155550301', to: '+14155559876', status: 'no-answer', direction: 'inbound', startTime },
        { from: '+14155550302', to: '+14155559876', status: 'busy', direction: 'inbound', startTime },
        { from: '+14155550303', to: '+14155559876', status: 'completed', direction: 'inbound', startTime },
        { from: '+14155550304', to: '+14155559876', status: 'failed', direction: 'inbound', startTime },
      ]),
    });
    const sids = ((await seeded.json()) as { sids: string[] }).sids;
    // The webhook of the first one did arrive.
    const delivered = statusCallback({ AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID, CallSid: sids[0] ?? '', From: '+14155550301' });
    expect(
      (await post('/twilio/call-status', delivered, signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/call-status`, delivered)))
        .status,
    ).toBe(204);

    const refused = await fetch(`http://127.0.0.1:${port}/reconcile`, { method: 'POST' });
    const response = await fetch(`http://127.0.0.1:${port}/reconcile`, { method: 'POST', headers: { 'x-api-key': operatorKey ?? '' } });

    expect(refused.status).toBe(403);
    expect(response.status).toBe(202);
    const { runId } = (await response.json()) as { runId: string };
    const run = await waitForRun(stack, runId);
    expect(run).toMatchObject({
      state: 'succeeded',
      // Every ended call is listed (the completed one too, which TwiML alone handled: nothing written).
      summary: { listed: 4, alreadyRecorded: 1, recoveredTotal: 2, recovered: { busy: 1, failed: 1 } },
    });
    const callPks = (await items()).filter((i) => String(i.pk).startsWith('CALL#')).map((i) => i.pk);
    const missedSids = [sids[0], sids[1], sids[3]];
    expect(missedSids.map((sid) => callPks.filter((pk) => pk === `CALL#${sid}`).length)).toEqual([1, 1, 1]);
    expect(callPks).not.toContain(`CALL#${sids[2]}`);
  });

  it("plays a voicemail's audio through GET /recordings/{sid}: the MP3's bytes from the local Twilio API, 403 without the key", async () => {
    const sid = `RE${'9'.repeat(32)}`;
    const seeded = await fetch(`${stack.twilioApi}/__local/recordings`, {
      method: 'POST',
      body: JSON.stringify({ sid, callSid: `CA${'9'.repeat(32)}`, durationSeconds: 12 }),
    });
    expect(seeded.status).toBe(201);
    const response = await fetch(`${stack.target}/recordings/${sid}`, { headers: { 'x-api-key': stack.key, Accept: 'audio/mpeg' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/mpeg');
    expect(Buffer.from(await response.arrayBuffer()).equals(silentMp3(12))).toBe(true);
    expect((await fetch(`${stack.target}/recordings/${sid}`)).status).toBe(403);
    const unknown = await fetch(`${stack.target}/recordings/RE${'8'.repeat(32)}`, { headers: { 'x-api-key': stack.key } });
    expect(unknown.status).toBe(404);
  });

  it("deletes a forgotten call's recording at Twilio: the call item's removal (as its TTL does), its event, the recordings Lambda", async () => {
    const flow = flows(81, Date.parse('2026-10-16T15:00:00.000Z')).find((f) => f.name === 'after hours, straight to voicemail');
    const sid = flow?.voicemail?.recordingSid;
    if (flow === undefined || sid === undefined) throw new Error('fixture');
    // Twilio keeps the message it recorded.
    const kept = await fetch(`${stack.twilioApi}/__local/recordings`, {
      method: 'POST',
      body: JSON.stringify({ sid, callSid: flow.root, durationSeconds: flow.voicemail?.durationSeconds }),
    });
    expect(kept.status).toBe(201);
    for (const d of flow.deliveries) {
      const params = { ...d.params, AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID };
      expect((await post(d.route, params, signLikeTwilio(token, `http://127.0.0.1:${port}${d.route}`, params))).status).toBeLessThan(300);
    }
    const key = { pk: `CALL#${flow.root}` };
    expect((await docs.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item).toMatchObject({
      outcome: 'missed',
      reason: 'voicemail',
      recordingSeenAt: expect.any(String),
    });
    // The ledger forgets the call: DynamoDB's TTL deletes the item (a REMOVE on the stream).
    await docs.send(new DeleteCommand({ TableName: tableName, Key: key }));
    const auth = `Basic ${Buffer.from(`${LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID}:${LOCAL_DEFAULTS.TWILIO_AUTH_TOKEN}`).toString('base64')}`;
    const url = `${stack.twilioApi}/2010-04-01/Accounts/${LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID}/Recordings/${sid}.json`;
    let status = 200;
    for (let i = 0; i < 60 && status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      status = (await fetch(url, { headers: { Authorization: auth } })).status;
    }
    expect(status).toBe(404);
    const events = (await (await fetch(`${stack.events}/__local/events`)).json()) as {
      detailType: string;
      detail: Record<string, unknown>;
    }[];
    expect(events.filter((e) => e.detailType === 'Recording forgotten' && e.detail.recordingSid === sid)).toEqual(
      [
        {
          detailType: 'Recording forgotten',
          detail: { id: `recording-forgotten:${sid}`, recordingSid: sid, callSid: flow.root },
        },
      ].map((e) => expect.objectContaining(e)),
    );
  });

  it('erases a caller through DELETE /contacts/{phone} (the number typed again), as docs/openapi.yaml says', async () => {
    const from = '+14155550888';
    const params = statusCallback({ AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID, From: from, CallStatus: 'no-answer' });
    expect(
      (await post('/twilio/call-status', params, signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/call-status`, params))).status,
    ).toBe(204);
    const contactUrl = `${stack.target}/contacts/${encodeURIComponent(from)}`;
    const headers = { 'x-api-key': stack.key, 'Content-Type': 'application/json' };
    let found = 404;
    for (let i = 0; i < 40 && found !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      found = (await fetch(contactUrl, { headers })).status;
    }
    expect(found).toBe(200);
    // Erasing is for admins: the machines' key is 403; npm start's first admin signs in.
    expect((await fetch(contactUrl, { method: 'DELETE', headers, body: JSON.stringify({ confirm: from }) })).status).toBe(403);
    const { idToken } = await signInWithPassword(stack.cognito, stack.cognito.admin.email, stack.cognito.admin.password);
    const admin = { 'x-api-key': stack.cognito.peopleKey, Authorization: `Bearer ${idToken}`, 'Content-Type': 'application/json' };
    const wrong = await fetch(contactUrl, { method: 'DELETE', headers: admin, body: JSON.stringify({ confirm: '+14155550889' }) });
    expect(wrong.status).toBe(400);
    expect((await fetch(contactUrl, { method: 'DELETE', body: JSON.stringify({ confirm: from }) })).status).toBe(403);
    const erased = await fetch(contactUrl, { method: 'DELETE', headers: admin, body: JSON.stringify({ confirm: from }) });
    expect(erased.status).toBe(200);
    const body = await erased.json();
    expect(responseErrors('/contacts/{phone}', 'DELETE', 200, body)).toEqual([]);
    expect(body).toMatchObject({ phone: from, erased: { contact: true, calls: 1, recordings: { deleted: 0, gone: 0 } } });
    expect((await fetch(contactUrl, { headers })).status).toBe(404);
    const call = (await docs.send(new GetCommand({ TableName: tableName, Key: { pk: `CALL#${params.CallSid}` }, ConsistentRead: true })))
      .Item;
    expect(call).toEqual({ pk: `CALL#${params.CallSid}`, type: 'erased', erasedAt: expect.any(String), expiresAt: expect.any(Number) });
  });

  it('calls a customer back through Twilio: the agent first, the customer bridged; voicemail stays an attempt, a person resolves the callback', async () => {
    const customer = '+14155550611';
    const agent = '+14155550199';
    const params = statusCallback({ AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID, From: customer, CallStatus: 'no-answer' });
    expect(
      (await post('/twilio/call-status', params, signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/call-status`, params))).status,
    ).toBe(204);
    const headers = { 'x-api-key': stack.key, 'Content-Type': 'application/json' };
    const callUrl = `${stack.target}/callbacks/${encodeURIComponent(customer)}/call`;
    type Item = { phone: string; attempts?: { count: number; last: { id: string; outcome?: string; agent: string }[] } };
    const worklistItem = async (): Promise<Item | undefined> => {
      const page = (await (await fetch(`${stack.target}/callbacks?limit=100`, { headers })).json()) as { items: Item[] };
      return page.items.find((i) => i.phone === customer);
    };
    for (let i = 0; i < 40 && (await worklistItem()) === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await worklistItem()).toBeDefined();
    // What Twilio's callees do: the agent answers; the customer's voicemail picks up first.
    const script = (outcomes: unknown) =>
      fetch(`${stack.twilioApi}/__local/call-outcomes`, { method: 'POST', body: JSON.stringify(outcomes) });
    await script([
      { number: agent, answer: 'human', seconds: 5 },
      { number: customer, answer: 'machine_start', seconds: 20 },
    ]);
    const first = await fetch(callUrl, {
      method: 'POST',
      headers: { ...headers, 'Idempotency-Key': 'attempt-1' },
      body: JSON.stringify({ agent }),
    });
    expect(first.status).toBe(202);
    const placed = (await first.json()) as { callSid: string; attemptId: string };
    expect(responseErrors('/callbacks/{phone}/call', 'POST', 202, placed)).toEqual([]);
    expect(placed.attemptId).toBe('attempt-1');
    // A double click: the same call, none placed again.
    const again = await fetch(callUrl, {
      method: 'POST',
      headers: { ...headers, 'Idempotency-Key': 'attempt-1' },
      body: JSON.stringify({ agent }),
    });
    expect(await again.json()).toEqual(placed);
    const outcomeOf = async (id: string) => {
      for (let i = 0; i < 60; i++) {
        const outcome = (await worklistItem())?.attempts?.last.find((a) => a.id === id)?.outcome;
        if (outcome !== undefined) return outcome;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return undefined;
    };
    expect(await outcomeOf('attempt-1')).toBe('voicemail');
    expect((await worklistItem())?.attempts).toMatchObject({ count: 1, last: [{ id: 'attempt-1', agent, outcome: 'voicemail' }] });
    // Twilio failing: nothing placed, nothing recorded.
    await fetch(`${stack.twilioApi}/__local/faults`, { method: 'POST', body: JSON.stringify({ kind: 'status', status: 503, times: 1 }) });
    const refused = await fetch(callUrl, {
      method: 'POST',
      headers: { ...headers, 'Idempotency-Key': 'attempt-2' },
      body: JSON.stringify({ agent }),
    });
    expect(refused.status).toBe(502);
    expect((await worklistItem())?.attempts?.count).toBe(1);
    // A person answers this time: the callback resolves by itself, as called back.
    await script([{ number: customer, answer: 'human', seconds: 45 }]);
    const second = await fetch(callUrl, {
      method: 'POST',
      headers: { ...headers, 'Idempotency-Key': 'attempt-3' },
      body: JSON.stringify({ agent }),
    });
    expect(second.status).toBe(202);
    let contact: { callback: unknown; resolutions: { resolvedBy: string }[] } | undefined;
    for (let i = 0; i < 60 && (contact === undefined || contact.callback !== null); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      contact = (await (await fetch(`${stack.target}/contacts/${encodeURIComponent(customer)}`, { headers })).json()) as typeof contact;
    }
    expect(contact?.callback).toBeNull();
    expect(contact?.resolutions[0]?.resolvedBy).toBe('callback');
    // Each outcome is a fact on the bus.
    let attempted: string[] = [];
    for (let i = 0; i < 40 && attempted.length < 2; i++) {
      const events = (await (await fetch(`${stack.events}/__local/events`)).json()) as { detailType: string; detail: { id: string } }[];
      attempted = events.filter((e) => e.detailType === 'Callback attempted' && e.detail.id.includes(customer)).map((e) => e.detail.id);
      if (attempted.length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(attempted.sort()).toEqual([
      `callback-attempted:${customer}:attempt-1:voicemail`,
      `callback-attempted:${customer}:attempt-3:reached`,
    ]);
    // The calls out are not missed calls: the ledger has no item for the agent's call.
    const byPk = new Map((await items()).map((i) => [i.pk, i]));
    expect(byPk.has(`CALL#${placed.callSid}`)).toBe(false);
    // No open callback any more: nothing to call.
    const none = await fetch(callUrl, { method: 'POST', headers, body: JSON.stringify({ agent }) });
    expect(none.status).toBe(404);
  });

  it('answers GET /stats and GET /health with the operator key, 403 without', async () => {
    const operatorKey = /x-api-key: ([\w-]+)/.exec(output)?.[1] ?? '';
    const today = new Date().toISOString().slice(0, 10);
    const refused = await fetch(`http://127.0.0.1:${port}/stats`);
    const stats = await fetch(`http://127.0.0.1:${port}/stats?from=${today}&to=${today}`, { headers: { 'x-api-key': operatorKey } });
    const health = await fetch(`http://127.0.0.1:${port}/health`, { headers: { 'x-api-key': operatorKey } });

    expect(refused.status).toBe(403);
    expect(stats.status).toBe(200);
    const body = (await stats.json()) as { totals: { total: number }; days: unknown[] };
    // What the earlier tests of this stack sent today: the counters say so, not a fixed number.
    // Today is live: its counters are on its shards (STATS#<day>#<n>), summed.
    const counted = (await items()).filter((i) => i.type === 'stats' && i.day === today).reduce((sum, i) => sum + Number(i.total ?? 0), 0);
    expect(body.totals.total).toBe(counted);
    expect(body.days).toHaveLength(1);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', checks: { table: { status: 'ok' }, twilio: { status: 'ok' } } });
  });

  it('counts a known set of webhooks on their day in GET /stats, and finds their caller in GET /contacts/{phone}', async () => {
    const operatorKey = /x-api-key: ([\w-]+)/.exec(output)?.[1] ?? '';
    const day = 'Sun, 01 Mar 2026 10:00:00 +0000';
    const sent = [
      statusCallback({ CallStatus: 'no-answer', From: '+14155550901', Timestamp: day }),
      statusCallback({ CallStatus: 'busy', From: '+14155550901', Timestamp: day }),
      statusCallback({ CallStatus: 'failed', From: 'anonymous', Timestamp: day }),
      statusCallback({ CallStatus: 'completed', From: '+14155550902', Timestamp: day }),
    ].map((p) => ({ ...p, AccountSid: LOCAL_DEFAULTS.TWILIO_ACCOUNT_SID }));
    for (const params of sent) {
      const response = await post(
        '/twilio/call-status',
        params,
        signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/call-status`, params),
      );
      expect(response.status).toBe(204);
    }
    // The duplicate of the first changes nothing.
    const first = sent[0] ?? sent[1];
    if (first) await post('/twilio/call-status', first, signLikeTwilio(token, `http://127.0.0.1:${port}/twilio/call-status`, first));
    const contact = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/contacts/%2B14155550901`, { headers: { 'x-api-key': operatorKey } });
      return response.status === 200 ? ((await response.json()) as { missedCount: number; calls: unknown[] }) : undefined;
    };
    const stats = async () =>
      (await (
        await fetch(`http://127.0.0.1:${port}/stats?from=2026-03-01&to=2026-03-01`, { headers: { 'x-api-key': operatorKey } })
      ).json()) as {
        anonymous: number;
      };
    // The contact and the anonymous counter both come through the stream: wait for both.
    let found = await contact();
    let counted = await stats();
    for (let i = 0; i < 50 && (found?.missedCount !== 2 || counted.anonymous !== 1); i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      found = await contact();
      counted = await stats();
    }

    expect(counted).toMatchObject({
      totals: { total: 3, 'no-answer': 1, busy: 1, failed: 1, canceled: 0 },
      bySource: { 'status-callback': 3, 'dial-action': 0, reconcile: 0 },
      anonymous: 1,
      contactsCreated: 1,
    });
    expect(found).toMatchObject({ phone: '+14155550901', missedCount: 2 });
    expect(found?.calls).toHaveLength(2);
  });

  it('signs the printed first admin in at the local user pool (as GET /auth/config says where); the people’s key needs their token', async () => {
    const config = await fetch(`${stack.target}/auth/config`);
    const body = await config.json();
    expect(responseErrors('/auth/config', 'GET', config.status, body)).toEqual([]);
    expect(body).toEqual({
      region: 'us-east-1',
      userPoolId: stack.cognito.userPoolId,
      clientId: stack.cognito.clientId,
      endpoint: stack.cognito.endpoint,
      apiKey: stack.cognito.peopleKey,
    });
    expect(stack.cognito.admin).toEqual({ email: LOCAL_DEFAULTS.LOCAL_ADMIN_EMAIL, password: LOCAL_DEFAULTS.LOCAL_ADMIN_PASSWORD });
    // As the page does: Cognito's JSON API where /auth/config says, no SDK, no AWS credentials.
    const signedIn = await signInWithPassword(body, stack.cognito.admin.email, stack.cognito.admin.password);
    const asPerson = (token?: string) =>
      fetch(`${stack.target}/callbacks?limit=1`, {
        headers: { 'x-api-key': body.apiKey, ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }) },
      });
    expect((await asPerson(signedIn.idToken)).status).toBe(200);
    const refused = await asPerson();
    expect(refused.status).toBe(401);
    expect(responseErrors('/callbacks', 'GET', 401, await refused.json())).toEqual([]);
  });

  it('answers every operator route as docs/openapi.yaml says', async () => {
    const operatorKey = /x-api-key: ([\w-]+)/.exec(output)?.[1] ?? '';
    const call = async (method: string, path: string, query = '', key = operatorKey) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}${query}`, { method, headers: key ? { 'x-api-key': key } : {} });
      const documented = path.startsWith('/contacts/')
        ? '/contacts/{phone}'
        : path.startsWith('/callbacks/')
          ? '/callbacks/{phone}/resolve'
          : path.startsWith('/reconcile/runs/')
            ? '/reconcile/runs/{runId}'
            : path;
      return { status: response.status, errors: responseErrors(documented, method, response.status, await response.json()) };
    };
    // A run of this stack (the warm-up's), to read one as the document says.
    const [someRun] = (
      (await (await fetch(`http://127.0.0.1:${port}/reconcile/runs?limit=1`, { headers: { 'x-api-key': operatorKey } })).json()) as {
        runs: { runId: string }[];
      }
    ).runs;
    const results = [
      await call('GET', '/stats', '?from=2026-11-01&to=2026-11-30'),
      await call('GET', '/stats', '?from=2026-11-31'),
      await call('GET', '/stats', '', 'wrong-key'),
      await call('GET', '/health'),
      await call('POST', '/reconcile'),
      await call('GET', '/reconcile/runs', '?limit=5'),
      await call('GET', `/reconcile/runs/${someRun?.runId}`),
      await call('GET', '/reconcile/runs/2026-11-24T03:00:00.000Z-0badc0de'),
      await call('GET', '/reconcile/runs/nope'),
      await call('GET', '/contacts', '?limit=5'),
      await call('GET', '/contacts', '?limit=500'),
      await call('GET', '/contacts/%2B14155550777'),
      await call('GET', '/contacts/%2B14155550000'),
      await call('GET', '/callbacks'),
      await call('GET', '/callbacks', '?state=resolved&since=2026-01-01'),
      await call('GET', '/callbacks', '?state=nope'),
      await call('POST', '/callbacks/%2B14155550901/resolve'),
      await call('POST', '/callbacks/%2B14155550000/resolve'),
      await call('POST', '/callbacks/%2B14155550901/resolve', '', 'wrong-key'),
    ];
    expect(results).toEqual([
      { status: 200, errors: [] },
      { status: 400, errors: [] },
      { status: 403, errors: [] },
      { status: 200, errors: [] },
      { status: 202, errors: [] },
      { status: 200, errors: [] },
      { status: 200, errors: [] },
      { status: 404, errors: [] },
      { status: 400, errors: [] },
      { status: 200, errors: [] },
      { status: 400, errors: [] },
      { status: 200, errors: [] },
      { status: 404, errors: [] },
      { status: 200, errors: [] },
      { status: 200, errors: [] },
      { status: 400, errors: [] },
      { status: 200, errors: [] },
      { status: 404, errors: [] },
      { status: 403, errors: [] },
    ]);
  });

  it('stops everything within 5 s on SIGTERM to npm start: no process, no port left', async () => {
    const started = Date.now();
    await stack.stop();
    expect(await gone(stack, started)).toEqual({ processes: [], openPorts: [] });
  });
});

/** Waits (up to 5 s after `since`) until the stack has no process and no open port left. */
async function gone(stack: LocalStack, since: number): Promise<{ processes: number[]; openPorts: number[] }> {
  for (;;) {
    const processes = stack.processes();
    const openPorts: number[] = [];
    for (const p of stack.ports) if (await portOpen(p)) openPorts.push(p);
    if ((processes.length === 0 && openPorts.length === 0) || Date.now() - since > 5_000) return { processes, openPorts };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start stops however it is stopped', () => {
  const stacks: Partial<Record<'SIGINT' | 'SIGHUP' | 'parent', LocalStack>> = {};

  beforeAll(async () => {
    // One after the other: three stacks starting at once would load this 2-core machine for
    // whatever the other test worker runs meanwhile.
    stacks.SIGINT = await startLocalStack();
    stacks.SIGHUP = await startLocalStack();
    stacks.parent = await startLocalStack({}, { parentShell: true });
  }, 180_000);

  afterAll(async () => {
    for (const stack of Object.values(stacks)) stack.launcher.kill('SIGKILL');
  });

  it.each(['SIGINT', 'SIGHUP'] as const)('%s to npm start stops everything within 5 s', async (signal) => {
    const stack = stacks[signal];
    if (stack === undefined) throw new Error('not started');
    expect(stack.processes().length).toBeGreaterThan(3);
    const started = Date.now();
    stack.launcher.kill(signal);
    expect(await gone(stack, started)).toEqual({ processes: [], openPorts: [] });
  });

  it("the death of npm start's parent (SIGKILL, no chance to forward anything) stops everything within 5 s", async () => {
    const stack = stacks.parent;
    if (stack === undefined) throw new Error('not started');
    expect(stack.processes().length).toBeGreaterThan(3);
    const started = Date.now();
    stack.launcher.kill('SIGKILL');
    expect(await gone(stack, started)).toEqual({ processes: [], openPorts: [] });
  });
});
