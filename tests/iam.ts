/**
 * IAM, checked from the packaged template: each function's role policy is read from
 * `osls package`'s CloudFormation (packaged once per run by tests/global-setup.ts), its
 * `!Sub`/`!GetAtt`/`!Ref` filled in for a fixed account and region, and the SDK clients a
 * function uses in the integration tests are wrapped with a middleware that refuses (as IAM
 * would, AccessDeniedException) and records every command the role does not allow.
 * The role is never restated here: change serverless.yml and these checks follow.
 */
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
const PARTITION = 'aws';

export type FunctionName = 'webhook' | 'contacts' | 'reconcile' | 'operator' | 'events' | 'textback' | 'recordings';

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}
export interface Template {
  Resources: Record<string, CfnResource>;
}

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
}

let cached: Template | undefined;

/** The packaged CloudFormation template (stage prod) of this run. */
export function packagedTemplate(): Template {
  cached ??= JSON.parse(readFileSync(inject('templatePath'), 'utf8')) as Template;
  return cached;
}

let cachedAll: Template | undefined;
/** The template packaged with every optional feature on (tests/global-setup.ts ALL_FEATURES). */
export function allFeaturesTemplate(): Template {
  cachedAll ??= JSON.parse(readFileSync(inject('allFeatures').templatePath, 'utf8')) as Template;
  return cachedAll;
}

const logicalName = (fn: FunctionName) => `${fn[0]?.toUpperCase()}${fn.slice(1)}LambdaFunction`;

function resource(template: Template, name: string): CfnResource {
  const found = template.Resources[name];
  if (found === undefined) throw new Error(`template: no resource ${name}`);
  return found;
}

/** What the names in a policy stand for in a test: the test's own table and stream. */
export interface Physical {
  tableName: string;
  /** The user pool's id, when the test has one (a local pool). */
  userPoolId?: string;
  /** The stream label (the part after `/stream/`), when the test reads a stream. */
  streamLabel?: string;
}

function resolver(template: Template, physical: Physical) {
  const tableArn = `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${physical.tableName}`;
  const getAtt = (name: string, attribute: string): string => {
    const target = resource(template, name);
    if (target.Type === 'AWS::DynamoDB::Table' && attribute === 'Arn') return tableArn;
    if (target.Type === 'AWS::DynamoDB::Table' && attribute === 'StreamArn') return `${tableArn}/stream/${physical.streamLabel ?? 'none'}`;
    if (target.Type === 'AWS::SQS::Queue' && attribute === 'Arn') {
      return `arn:${PARTITION}:sqs:${REGION}:${ACCOUNT}:${String(target.Properties.QueueName)}`;
    }
    if (target.Type === 'AWS::Cognito::UserPool' && attribute === 'Arn') {
      return `arn:${PARTITION}:cognito-idp:${REGION}:${ACCOUNT}:userpool/${physical.userPoolId ?? 'none'}`;
    }
    if (target.Type === 'AWS::Lambda::Function' && attribute === 'Arn') {
      return `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${String(target.Properties.FunctionName)}`;
    }
    throw new Error(`iam: cannot resolve !GetAtt ${name}.${attribute}`);
  };
  const ref = (name: string): string => {
    if (name === 'AWS::Partition') return PARTITION;
    if (name === 'AWS::Region') return REGION;
    if (name === 'AWS::AccountId') return ACCOUNT;
    const target = resource(template, name);
    if (target.Type === 'AWS::DynamoDB::Table') return physical.tableName;
    throw new Error(`iam: cannot resolve !Ref ${name}`);
  };
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    if (typeof value !== 'object' || value === null) throw new Error(`iam: cannot resolve ${JSON.stringify(value)}`);
    const [[fn, arg] = []] = Object.entries(value);
    if (fn === 'Ref' && typeof arg === 'string') return ref(arg);
    if (fn === 'Fn::GetAtt' && Array.isArray(arg)) return getAtt(String(arg[0]), String(arg[1]));
    if (fn === 'Fn::GetAtt' && typeof arg === 'string') {
      const [name = '', attribute = ''] = arg.split('.');
      return getAtt(name, attribute);
    }
    if (fn === 'Fn::Sub' && typeof arg === 'string') {
      return arg.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const [target = '', attribute] = name.split('.');
        return attribute === undefined || target.startsWith('AWS::') ? ref(name) : getAtt(target, attribute);
      });
    }
    if (fn === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) return arg[1].map(resolve).join(String(arg[0]));
    throw new Error(`iam: cannot resolve ${JSON.stringify(value)}`);
  };
  return resolve;
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

/** The statements of `fn`'s role, resolved for `physical`. */
export function rolePolicy(fn: FunctionName, physical: Physical, template = packagedTemplate()): Statement[] {
  const role = resource(template, logicalName(fn)).Properties.Role;
  const roleName = typeof role === 'object' && role !== null && 'Fn::GetAtt' in role ? list(role['Fn::GetAtt'])[0] : undefined;
  if (typeof roleName !== 'string') throw new Error(`iam: ${fn} has no role of this template`);
  const properties = resource(template, roleName).Properties;
  if (properties.ManagedPolicyArns !== undefined) throw new Error(`iam: ${roleName} has managed policies this check cannot read`);
  const resolve = resolver(template, physical);
  // Its inline policies, and the policies of their own (AWS::IAM::Policy) attached to it.
  const attached = Object.values(template.Resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' && list(r.Properties.Roles).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleName })),
    )
    .map((r) => r.Properties);
  return [...(properties.Policies === undefined ? [] : list(properties.Policies)), ...attached].flatMap((policy) => {
    const document = (policy as { PolicyDocument: { Statement: unknown } }).PolicyDocument;
    return list(document.Statement).map((raw) => {
      const s = raw as { Effect: 'Allow' | 'Deny'; Action: unknown; Resource: unknown; NotAction?: unknown; NotResource?: unknown };
      if (s.NotAction !== undefined || s.NotResource !== undefined) throw new Error('iam: NotAction/NotResource not supported');
      return { Effect: s.Effect, Action: list(s.Action).map(String), Resource: list(s.Resource).map(resolve) };
    });
  });
}

/** The on-failure destination ARN of `fn`'s (first) event source mapping. */
export function onFailureDestination(fn: FunctionName, physical: Physical, template = packagedTemplate()): string {
  const mapping = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && JSON.stringify(r.Properties.FunctionName).includes(`"${logicalName(fn)}"`),
  );
  const destination = (mapping?.Properties.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure
    ?.Destination;
  if (destination === undefined) throw new Error(`iam: ${fn} has no on-failure destination`);
  return resolver(template, physical)(destination);
}

/** `fn`'s name in the template (what Lambda sets as AWS_LAMBDA_FUNCTION_NAME). */
export function deployedFunctionName(fn: FunctionName, template = packagedTemplate()): string {
  return String(resource(template, logicalName(fn)).Properties.FunctionName);
}

/** `fn`'s environment variables in the template (plain strings only). */
export function functionEnvironment(fn: FunctionName, template = packagedTemplate()): Record<string, string> {
  const environment = resource(template, logicalName(fn)).Properties.Environment as { Variables?: Record<string, unknown> } | undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment?.Variables ?? {})) {
    // A resource's id (the user pool's `Ref`) is known only once deployed: a test that needs it sets it.
    if (typeof value === 'object' && value !== null && Object.keys(value).every((k) => k === 'Ref' || k.startsWith('Fn::'))) continue;
    if (typeof value !== 'string') throw new Error(`iam: ${fn} environment ${name} is not a plain string`);
    out[name] = value;
  }
  return out;
}

const wildcard = (pattern: string, flags = '') =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    flags,
  );

/** IAM's decision for one action on one resource: an explicit Deny wins, else an Allow is needed. */
export function isAllowed(statements: readonly Statement[], action: string, arn: string): boolean {
  const matches = (s: Statement) => s.Action.some((a) => wildcard(a, 'i').test(action)) && s.Resource.some((r) => wildcard(r).test(arn));
  if (statements.some((s) => s.Effect === 'Deny' && matches(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && matches(s));
}

/** The IAM requests (action, resource ARN) one SDK command needs. */
export function requiredPermissions(
  commandName: string,
  input: Record<string, unknown>,
  iterators: ReadonlyMap<string, string>,
): [string, string][] {
  const table = (name: unknown) => `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${String(name)}`;
  const op = commandName.replace(/Command$/, '');
  const stream = (arn: unknown) => String(arn).replace(/^arn:aws:dynamodb:[^:]*:[^:]*:/, `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:`);
  switch (op) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
    case 'DescribeTable':
    case 'Scan':
    case 'Query':
      return [
        [
          `dynamodb:${op}`,
          typeof input.IndexName === 'string' ? `${table(input.TableName)}/index/${input.IndexName}` : table(input.TableName),
        ],
      ];
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((input.RequestItems as Record<string, unknown>) ?? {}).map((name) => [`dynamodb:${op}`, table(name)]);
    case 'TransactWriteItems':
    case 'TransactGetItems':
      // Transactions are authorised per item: there is no dynamodb:TransactWriteItems action.
      return ((input.TransactItems as Record<string, { TableName?: string }>[]) ?? []).flatMap((item) =>
        Object.entries(item).map(([kind, action]): [string, string] => {
          const iamAction = {
            Put: 'PutItem',
            Update: 'UpdateItem',
            Delete: 'DeleteItem',
            ConditionCheck: 'ConditionCheckItem',
            Get: 'GetItem',
          }[kind];
          return [`dynamodb:${iamAction ?? kind}`, table(action.TableName)];
        }),
      );
    case 'DescribeStream':
    case 'GetShardIterator':
      return [[`dynamodb:${op}`, stream(input.StreamArn)]];
    case 'GetRecords':
      return [['dynamodb:GetRecords', stream(iterators.get(String(input.ShardIterator)) ?? 'unknown-iterator')]];
    case 'ListStreams':
      return [['dynamodb:ListStreams', '*']];
    case 'GetParameter':
      return [['ssm:GetParameter', `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:parameter${String(input.Name)}`]];
    case 'GetParameters':
      return ((input.Names as string[]) ?? []).map((name) => [
        'ssm:GetParameters',
        `arn:${PARTITION}:ssm:${REGION}:${ACCOUNT}:parameter${name}`,
      ]);
    case 'SendMessage':
      return [['sqs:SendMessage', `arn:${PARTITION}:sqs:${REGION}:${ACCOUNT}:${String(input.QueueUrl).split('/').at(-1)}`]];
    case 'PutEvents':
      return ((input.Entries as { EventBusName?: string }[]) ?? []).map((entry) => [
        'events:PutEvents',
        `arn:${PARTITION}:events:${REGION}:${ACCOUNT}:event-bus/${entry.EventBusName ?? 'default'}`,
      ]);
    case 'ListUsers':
    case 'ListUsersInGroup':
    case 'AdminCreateUser':
    case 'AdminAddUserToGroup':
    case 'AdminRemoveUserFromGroup':
    case 'AdminUpdateUserAttributes':
    case 'AdminDisableUser':
    case 'AdminEnableUser':
    case 'AdminUserGlobalSignOut':
      return [[`cognito-idp:${op}`, `arn:${PARTITION}:cognito-idp:${REGION}:${ACCOUNT}:userpool/${String(input.UserPoolId)}`]];
    case 'Invoke':
      return [['lambda:InvokeFunction', `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${String(input.FunctionName)}`]];
    default:
      throw new Error(`iam: no mapping for ${commandName}; add it to tests/iam.ts`);
  }
}

/** What the guards refused, for the test to assert empty. */
export const violations: string[] = [];

interface Guardable {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: object }) => Promise<{ output: object }>,
        context: { commandName?: string },
      ) => (args: { input: object }) => Promise<{ output: object }>,
      options: { step: 'initialize'; name: string; override: boolean },
    ): void;
  };
}

/**
 * Makes `client` behave as if it ran under `fn`'s role: a command the role does not allow is
 * recorded in {@link violations} and fails as IAM fails it (AccessDeniedException).
 */
export function guardClient<C>(client: C & Guardable, fn: FunctionName, physical: Physical): C {
  const statements = rolePolicy(fn, physical);
  const iterators = new Map<string, string>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const commandName = context.commandName ?? 'unknown';
      const input = args.input as Record<string, unknown>;
      for (const [action, arn] of requiredPermissions(commandName, input, iterators)) {
        if (!isAllowed(statements, action, arn)) {
          const message = `${fn} role may not ${action} on ${arn}`;
          violations.push(message);
          throw Object.assign(new Error(`User is not authorized to perform: ${action} on resource: ${arn}`), {
            name: 'AccessDeniedException',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            violation: message,
          });
        }
      }
      const result = await next(args);
      // GetRecords names its stream only through the iterator: remember which stream each belongs to.
      const output = result.output as { ShardIterator?: string; NextShardIterator?: string };
      const streamArn = commandName.startsWith('GetShardIterator') ? input.StreamArn : iterators.get(String(input.ShardIterator));
      for (const iterator of [output.ShardIterator, output.NextShardIterator]) {
        if (typeof iterator === 'string' && typeof streamArn === 'string') iterators.set(iterator, streamArn);
      }
      return result;
    },
    { step: 'initialize', name: 'iamGuard', override: true },
  );
  return client;
}

/** Empties {@link violations} and returns what it held. */
export function takeViolations(): string[] {
  return violations.splice(0, violations.length);
}
