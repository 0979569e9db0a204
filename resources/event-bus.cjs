// The EventBridge bus the events function publishes to (EVENT_BUS_NAME: a bus name, or a bus's
// ARN), checked at package time. Returns what serverless.yml needs:
// - `name`: what the function and the text-back rule are given (PutEvents and AWS::Events::Rule
//   take a name or an ARN alike);
// - `policyResource`: the resource of the events role's events:PutEvents (a name becomes this
//   account's and region's bus, through Fn::Sub; an ARN is used as it is: `event-bus/<an ARN>`
//   would grant nothing).
// Anything else fails `osls package` and deploy with a clear message.
const NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[/.\-_A-Za-z0-9]{1,256}$/;

function eventBus(value) {
  const raw = (value ?? '').trim() || 'default';
  if (ARN.test(raw)) return { name: raw, policyResource: raw };
  if (raw.startsWith('arn:')) {
    throw new Error(`EVENT_BUS_NAME: "${raw}" is not an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)`);
  }
  if (!NAME.test(raw)) throw new Error(`EVENT_BUS_NAME: "${raw}" is not an event bus name (letters, digits, . - _ /; at most 256)`);
  return { name: raw, policyResource: { 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${raw}` } };
}

module.exports = async () => eventBus(process.env.EVENT_BUS_NAME);
module.exports.eventBus = eventBus;
