/**
 * Alarms that need a human: a message in any dead-letter queue (an upload or
 * export that failed every retry), and Lambda errors or throttles. All go to
 * one encrypted SNS topic; `alarmEmail` in the stage config subscribes an
 * address.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { QueueId } from '@medlake/shared/resources';
import { nameFor } from '@medlake/shared/resources';
import type { StageConfig } from './config';
import type { QueuePair } from './processing';
import { pascal } from './storage';

function pascalToKebab(id: string): string {
  return id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export interface MonitoringProps {
  config: StageConfig;
  dataKey: kms.IKey;
  queues: Record<QueueId, QueuePair>;
  functions: Partial<Record<string, lambda.IFunction>>;
  /** Scheduled rules whose failed deliveries need a human (the digest safety net). */
  schedules?: readonly events.Rule[];
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly notify: actions.SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config } = props;
    this.topic = new sns.Topic(this, 'Alarms', { topicName: nameFor(config.stage, 'alarms'), masterKey: props.dataKey, enforceSSL: true });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
    );
    if (config.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    this.notify = new actions.SnsAction(this.topic);

    for (const [queueId, { deadLetterQueue }] of Object.entries(props.queues)) {
      this.alarmOnAny(`${pascal(queueId)}DeadLetters`, {
        alarmName: nameFor(config.stage, `${queueId}-dead-letters`),
        alarmDescription: `Messages of the ${queueId} queue failed every retry and wait in ${deadLetterQueue.queueName}: inspect, fix, redrive.`,
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      });
    }

    for (const [name, fn] of Object.entries(props.functions)) {
      if (!fn) continue;
      for (const [kind, metric] of [
        ['errors', fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM })],
        ['throttles', fn.metricThrottles({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM })],
      ] as const) {
        this.alarmOnAny(`${pascal(name)}${pascal(kind)}`, {
          alarmName: nameFor(config.stage, `${name}-${kind}`),
          alarmDescription: `The ${name} function reported ${kind} (see its log group /aws/lambda/${nameFor(config.stage, name)}).`,
          metric,
        });
      }
    }

    for (const rule of props.schedules ?? []) {
      this.alarmOnAny(`${rule.node.id}FailedInvocations`, {
        alarmName: nameFor(config.stage, `${pascalToKebab(rule.node.id)}-failed`),
        alarmDescription: `EventBridge could not deliver the scheduled ${rule.node.id} message (queue policy or key policy?).`,
        metric: new cloudwatch.Metric({ namespace: 'AWS/Events', metricName: 'FailedInvocations', dimensionsMap: { RuleName: rule.ruleName }, period: Duration.minutes(15), statistic: cloudwatch.Stats.SUM }),
      });
    }
  }

  /** An alarm on the first occurrence (one period, at least 1; no data is no trouble), sent to the topic. */
  private alarmOnAny(id: string, props: Pick<cloudwatch.AlarmProps, 'alarmName' | 'alarmDescription' | 'metric'>): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      ...props,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.notify);
    this.alarms.push(alarm);
  }
}
