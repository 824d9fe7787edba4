import { DataSource } from 'typeorm';
import { loadToolConfig } from '../config/config';
import { dataSourceOptions } from './data-source';

/** For the TypeORM CLI only (npm run migration:generate); the service never imports this file. */
export default new DataSource(dataSourceOptions(loadToolConfig()));
