/**
 * Argo CD's kinds as typed objects (../../lib/k8s-objects.ts builds them like their kubernetes-models
 * classes, without loading the classes' validators): Application and AppProject.
 */
import type { IApplication } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import type { IAppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject';
import { kind, type TypedObject } from '../../lib/k8s-objects.js';

export const Application = kind<IApplication>('argoproj.io/v1alpha1', 'Application');
export const AppProject = kind<IAppProject>('argoproj.io/v1alpha1', 'AppProject');
export type Application = TypedObject<IApplication>;
export type AppProject = TypedObject<IAppProject>;
