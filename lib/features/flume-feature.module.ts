import { Module } from '@nestjs/common';

/** The module `FlumeModule.forFeature` returns: it only declares pipelines (internal). */
@Module({})
export class FlumeFeatureModule {}
