import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';

/**
 * The sample's stand-in for real auth: lets through requests from this machine only.
 * An app would check its session or token here instead (see docs/operations.md, "Dashboard").
 */
@Injectable()
export class LocalOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ socket?: { remoteAddress?: string } }>();
    const address = request.socket?.remoteAddress ?? '';
    return ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(address);
  }
}
