/**
 * People, for admins (`GET /users`, `POST /users`, `PATCH /users/{id}`): Cognito's admin API on
 * the stack's user pool. A person's id is their `sub` (stable; their e-mail is their username);
 * their role is their group (`admin` or `agent`); their phone (`phone_number`, E.164) is the
 * default number the dashboard offers for "Call back". Disabling a person also signs them out
 * everywhere (their refresh tokens revoked).
 */
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  AdminRemoveUserFromGroupCommand,
  AdminUpdateUserAttributesCommand,
  AdminUserGlobalSignOutCommand,
  type CognitoIdentityProviderClient,
  ListUsersCommand,
  ListUsersInGroupCommand,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { twilioE164 } from '../phone/phone.js';
import { HttpError, type HttpRequest, parseJsonBody } from '../platform/request.js';
import { isRecord } from '../table/items.js';
import { ROLES, type Role } from './caller.js';

export interface PersonView {
  id: string;
  email: string;
  name: string;
  role: Role | null;
  phone: string | null;
  enabled: boolean;
  /** Cognito's status: FORCE_CHANGE_PASSWORD until a first sign-in, CONFIRMED after. */
  status: string;
}

const attribute = (user: UserType, name: string): string | undefined => user.Attributes?.find((a) => a.Name === name)?.Value;

function view(user: UserType, roles: ReadonlyMap<string, Role>): PersonView {
  const id = attribute(user, 'sub') ?? '';
  return {
    id,
    email: attribute(user, 'email') ?? '',
    name: attribute(user, 'name') ?? '',
    role: roles.get(id) ?? null,
    phone: attribute(user, 'phone_number') ?? null,
    enabled: user.Enabled !== false,
    status: user.UserStatus ?? 'UNKNOWN',
  };
}

/** A refusal of Cognito's as the API answers it: 409 exists, 400 bad password or attribute, 404 unknown. */
function refusal(error: unknown): never {
  const name = error instanceof Error ? error.name : '';
  if (name === 'UsernameExistsException') throw new HttpError(409, 'Someone with this e-mail exists already');
  if (name === 'InvalidPasswordException') throw new HttpError(400, 'temporaryPassword does not meet the password policy');
  if (name === 'InvalidParameterException') throw new HttpError(400, 'Cognito refused a value (e-mail, name or phone)');
  if (name === 'UserNotFoundException') throw new HttpError(404, 'No such person');
  throw error;
}

export interface NewPerson {
  email: string;
  name: string;
  role: Role;
  phone?: string;
  temporaryPassword?: string;
}

export interface PersonChange {
  role?: Role;
  /** null removes it. */
  phone?: string | null;
  disabled?: boolean;
}

const text = (value: unknown, name: string, max: number): string => {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max)
    throw new HttpError(400, `${name} must be text of at most ${max} characters`);
  return value.trim();
};
const role = (value: unknown): Role => {
  if (!ROLES.some((r) => r === value)) throw new HttpError(400, 'role must be admin or agent');
  return value as Role;
};
const phone = (value: unknown): string => {
  const e164 = typeof value === 'string' ? twilioE164(value) : undefined;
  if (e164 === undefined) throw new HttpError(400, 'phone must be a number in E.164 (+1…)');
  return e164;
};

/** `POST /users`'s body. */
export function parseNewPerson(request: Pick<HttpRequest, 'body' | 'headers'>): NewPerson {
  const body = parseJsonBody(request);
  const allowed = ['email', 'name', 'role', 'phone', 'temporaryPassword'];
  if (!isRecord(body) || Object.keys(body).some((key) => !allowed.includes(key)))
    throw new HttpError(400, 'body must be {"email", "name", "role", "phone"?, "temporaryPassword"?}');
  const email = text(body.email, 'email', 254);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new HttpError(400, 'email must be an e-mail address');
  return {
    email: email.toLowerCase(),
    name: text(body.name, 'name', 100),
    role: role(body.role),
    ...(body.phone === undefined ? {} : { phone: phone(body.phone) }),
    ...(body.temporaryPassword === undefined ? {} : { temporaryPassword: text(body.temporaryPassword, 'temporaryPassword', 256) }),
  };
}

/** `PATCH /users/{id}`'s body. */
export function parsePersonChange(request: Pick<HttpRequest, 'body' | 'headers'>): PersonChange {
  const body = parseJsonBody(request);
  if (!isRecord(body) || Object.keys(body).length === 0 || Object.keys(body).some((key) => !['role', 'phone', 'disabled'].includes(key)))
    throw new HttpError(400, 'body must hold role, phone or disabled');
  if (body.disabled !== undefined && typeof body.disabled !== 'boolean') throw new HttpError(400, 'disabled must be true or false');
  return {
    ...(body.role === undefined ? {} : { role: role(body.role) }),
    ...(body.phone === undefined ? {} : { phone: body.phone === null ? null : phone(body.phone) }),
    ...(body.disabled === undefined ? {} : { disabled: body.disabled }),
  };
}

export function createPeople(client: CognitoIdentityProviderClient, userPoolId: string) {
  async function roles(): Promise<Map<string, Role>> {
    const found = new Map<string, Role>();
    // Agents first: a person in both groups is an admin.
    for (const group of ['agent', 'admin'] as const) {
      let token: string | undefined;
      do {
        const page = await client.send(new ListUsersInGroupCommand({ UserPoolId: userPoolId, GroupName: group, NextToken: token }));
        for (const user of page.Users ?? []) found.set(attribute(user, 'sub') ?? '', group);
        token = page.NextToken;
      } while (token !== undefined);
    }
    return found;
  }

  /** The person with this `sub`, as Cognito lists them (their username for the admin calls). */
  async function find(id: string): Promise<UserType> {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new HttpError(400, 'id must be a person’s id');
    const page = await client.send(new ListUsersCommand({ UserPoolId: userPoolId, Filter: `sub = "${id}"`, Limit: 1 }));
    const user = page.Users?.[0];
    if (user?.Username === undefined) throw new HttpError(404, 'No such person');
    return user;
  }

  return {
    async list(): Promise<PersonView[]> {
      const byId = await roles();
      const people: PersonView[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListUsersCommand({ UserPoolId: userPoolId, PaginationToken: token }));
        people.push(...(page.Users ?? []).map((user) => view(user, byId)));
        token = page.PaginationToken;
      } while (token !== undefined);
      return people.sort((a, b) => a.name.localeCompare(b.name));
    },

    async create(person: NewPerson): Promise<PersonView> {
      try {
        const created = await client.send(
          new AdminCreateUserCommand({
            UserPoolId: userPoolId,
            Username: person.email,
            UserAttributes: [
              { Name: 'email', Value: person.email },
              { Name: 'email_verified', Value: 'true' },
              { Name: 'name', Value: person.name },
              ...(person.phone === undefined ? [] : [{ Name: 'phone_number', Value: person.phone }]),
            ],
            // Cognito e-mails an invitation with a temporary password, unless one is given here.
            ...(person.temporaryPassword === undefined
              ? { DesiredDeliveryMediums: ['EMAIL' as const] }
              : { TemporaryPassword: person.temporaryPassword, MessageAction: 'SUPPRESS' as const }),
          }),
        );
        const user = created.User ?? {};
        await client.send(
          new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: user.Username ?? person.email, GroupName: person.role }),
        );
        return view(user, new Map([[attribute(user, 'sub') ?? '', person.role]]));
      } catch (error) {
        return refusal(error);
      }
    },

    async update(id: string, change: PersonChange): Promise<PersonView> {
      const user = await find(id);
      const username = user.Username ?? '';
      try {
        if (change.role !== undefined) {
          const other = change.role === 'admin' ? 'agent' : 'admin';
          await client.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: change.role }));
          await client.send(new AdminRemoveUserFromGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: other }));
        }
        if (change.phone !== undefined) {
          await client.send(
            new AdminUpdateUserAttributesCommand({
              UserPoolId: userPoolId,
              Username: username,
              UserAttributes: [{ Name: 'phone_number', Value: change.phone ?? '' }],
            }),
          );
        }
        if (change.disabled === true) {
          await client.send(new AdminDisableUserCommand({ UserPoolId: userPoolId, Username: username }));
          await client.send(new AdminUserGlobalSignOutCommand({ UserPoolId: userPoolId, Username: username }));
        } else if (change.disabled === false) {
          await client.send(new AdminEnableUserCommand({ UserPoolId: userPoolId, Username: username }));
        }
      } catch (error) {
        return refusal(error);
      }
      const now = await find(id);
      const role = change.role ?? (await roles()).get(id);
      return view(now, new Map(role === undefined ? [] : [[id, role]]));
    },
  };
}

export type People = ReturnType<typeof createPeople>;
