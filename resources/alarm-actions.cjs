// Where the stack's alarms notify: ALARM_TOPIC_ARN (an SNS topic's ARN), or nowhere (the alarms
// still change state and show in the CloudWatch console). A malformed ARN fails the package.
const TOPIC = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

function alarmActions(value) {
  const raw = (value ?? '').trim();
  if (raw === '') return [];
  if (!TOPIC.test(raw)) throw new Error(`ALARM_TOPIC_ARN: "${raw}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)`);
  return [raw];
}

module.exports = async () => alarmActions(process.env.ALARM_TOPIC_ARN);
module.exports.alarmActions = alarmActions;
