/** The hosted zone and the TLS certificate behind the optional custom domains. */
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import type { DomainSettings } from '../stage-config.ts';

export interface CustomDomainProps {
  settings: DomainSettings;
  /** The names the certificate must cover (API and/or Grafana). */
  names: string[];
}

export class CustomDomain extends Construct {
  readonly hostedZone: route53.IHostedZone;
  readonly certificate: acm.ICertificate;

  constructor(scope: Construct, id: string, props: CustomDomainProps) {
    super(scope, id);
    const { settings } = props;
    const [primary, ...alternatives] = props.names;
    if (primary === undefined) throw new Error('CustomDomain needs at least one name');

    // With an id the zone is referenced as is; without one the CLI looks it up at synth
    // (that needs credentials and a concrete account/region, and is cached in cdk.context.json).
    this.hostedZone = settings.hostedZoneId
      ? route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
          hostedZoneId: settings.hostedZoneId,
          zoneName: settings.hostedZoneName,
        })
      : route53.HostedZone.fromLookup(this, 'Zone', { domainName: settings.hostedZoneName });

    this.certificate = settings.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', settings.certificateArn)
      : new acm.Certificate(this, 'Certificate', {
          domainName: primary,
          subjectAlternativeNames: alternatives.length > 0 ? alternatives : undefined,
          validation: acm.CertificateValidation.fromDns(this.hostedZone),
        });
  }
}
